/**
 * `npm start`: all six functions in one process against the local stack — gRPC on
 * GRPC_PORT, HTTP on HTTP_PORT, the consumers running, cleanup on a timer.
 */
import { cleanupExpired } from '../../functions/cleanup-expired/function';
import { fanoutGroup } from '../../functions/fanout-group/function';
import { markRead } from '../../functions/mark-read/function';
import { persistOffline } from '../../functions/persist-offline/function';
import { routeGroup } from '../../functions/route-group/function';
import { routePrivate } from '../../functions/route-private/function';
import { runMain } from './main';

void runMain([routePrivate, routeGroup, fanoutGroup, persistOffline, markRead, cleanupExpired], 'im-functions-local');
