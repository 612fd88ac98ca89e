/** Container entry of cleanup-expired: this function alone in its host. */
import { runMain } from '../../shared/runtime/main';
import { cleanupExpired } from './function';

void runMain([cleanupExpired], 'cleanup-expired');
