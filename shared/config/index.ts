export { loadConfig, DEV_JWT_SECRET, FILTER_ACTIONS, OFFLINE_STORE_POLICIES, type Config } from './config';
export * as env from './env';
