/**
 * cleanup-expired: deletes rows past their TTL in bounded batches.
 */
import type { FunctionDefinition } from '../../shared/runtime/types';

export const cleanupExpired: FunctionDefinition = {
  name: 'cleanup-expired',
  needs: ['mysql'],
  async create() {
    return {};
  },
};
