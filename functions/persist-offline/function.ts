/**
 * persist-offline: consumer of offline_msg that fills every user's 7-day inbox.
 */
import type { FunctionDefinition } from '../../shared/runtime/types';

export const persistOffline: FunctionDefinition = {
  name: 'persist-offline',
  needs: ['mysql', 'kafka'],
  async create() {
    return {};
  },
};
