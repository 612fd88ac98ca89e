/** Container entry of mark-read: this function alone in its host. */
import { runMain } from '../../shared/runtime/main';
import { markRead } from './function';

void runMain([markRead], 'mark-read');
