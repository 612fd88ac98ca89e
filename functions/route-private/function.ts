/**
 * route-private: im.v1.IMService RoutePrivateMessage and GetMessageStatus.
 */
import type { FunctionDefinition } from '../../shared/runtime/types';

export const routePrivate: FunctionDefinition = {
  name: 'route-private',
  needs: ['mysql', 'redis', 'etcd', 'kafka'],
  async create() {
    return {};
  },
};
