/** Container entry of persist-offline: this function alone in its host. */
import { runMain } from '../../shared/runtime/main';
import { persistOffline } from './function';

void runMain([persistOffline], 'persist-offline');
