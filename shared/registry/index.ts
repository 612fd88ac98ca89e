/** The device registry on etcd: gateways register devices, routers look them up. */
export { createEtcd, pingEtcd, Etcd3 } from './etcd';
export { Registry, DEFAULT_WATCH_CHECK_INTERVAL_MS, type RegistryConfig, type RegistryOptions } from './registry';
export {
  GatewayRegistration,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type GatewayRegistrationConfig,
  type GatewayRegistrationOptions,
} from './gateway-registration';
export { RegistryKeys, prefixRangeEnd, MAX_ID_LENGTH } from './keys';
export type { DeviceEntry } from './record';
