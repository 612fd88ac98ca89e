/**
 * fanout-group: consumer of group_msg that delivers group messages to members.
 */
import type { FunctionDefinition } from '../../shared/runtime/types';

export const fanoutGroup: FunctionDefinition = {
  name: 'fanout-group',
  needs: ['mysql', 'redis', 'etcd', 'kafka'],
  async create() {
    return {};
  },
};
