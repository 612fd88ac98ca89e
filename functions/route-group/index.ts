/** Container entry of route-group: this function alone in its host. */
import { runMain } from '../../shared/runtime/main';
import { routeGroup } from './function';

void runMain([routeGroup], 'route-group');
