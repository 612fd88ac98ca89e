/** The etcd kit (etcd3, which brings grpc-js and its protos). */
import { createEtcd, pingEtcd } from '../../registry/etcd';
import type { EtcdKit } from './types';

export const etcdKit: EtcdKit = { create: createEtcd, ping: pingEtcd };
