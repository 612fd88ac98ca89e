/** Container entry of route-private: this function alone in its host. */
import { runMain } from '../../shared/runtime/main';
import { routePrivate } from './function';

void runMain([routePrivate], 'route-private');
