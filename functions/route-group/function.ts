/**
 * route-group: im.v1.IMService RouteGroupMessage.
 */
import type { FunctionDefinition } from '../../shared/runtime/types';

export const routeGroup: FunctionDefinition = {
  name: 'route-group',
  needs: ['mysql', 'redis', 'kafka'],
  async create() {
    return {};
  },
};
