/** Container entry of fanout-group: this function alone in its host. */
import { runMain } from '../../shared/runtime/main';
import { fanoutGroup } from './function';

void runMain([fanoutGroup], 'fanout-group');
