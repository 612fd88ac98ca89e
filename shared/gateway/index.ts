/** The gateway push client of the routers: re-exports only. */
export { GatewayClient, PushFailure, gatewayClientOptions } from './client';
export type { GatewayPusher, GatewayClientOptions, PushOptions } from './client';
export { CircuitBreaker } from './breaker';
export type { BreakerState, BreakerOptions } from './breaker';
