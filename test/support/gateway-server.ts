/**
 * A real gateway.v1.GatewayService server for tests: it listens on loopback, records
 * every push it accepts, and can be told to refuse devices, answer slowly, fail with
 * a gRPC status, or die. The routing and fanout tests register it in etcd like a real
 * gateway and assert on what it received.
 */
import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  GatewayServiceService,
  type DeviceResult,
  type PushBatchRequest,
  type PushBatchResponse,
  type PushEnvelope,
  type PushMessageRequest,
  type PushMessageResponse,
} from '../../shared/gen/gateway/v1/gateway';

/** One device that accepted one message. */
export interface RecordedPush {
  readonly userId: string;
  readonly deviceId: string;
  readonly message: PushEnvelope;
  readonly method: 'PushMessage' | 'PushBatch';
  readonly at: number;
}

export interface TestGatewayBehaviour {
  /** Delay before answering (ms). */
  delayMs: number;
  /** Devices answered delivered=false, reason DEVICE_NOT_CONNECTED. */
  readonly refusedDevices: Set<string>;
  /** When set, every call fails with this gRPC status (after the delay). */
  failWith: GrpcStatus | undefined;
  /** False: count accepted pushes without keeping them (long benchmark runs). */
  record: boolean;
}

export class TestGateway {
  readonly pushes: RecordedPush[] = [];
  /** Every call received, including failed and refused ones. */
  calls = 0;
  /** Devices that accepted a message, recorded or not. */
  delivered = 0;
  readonly behaviour: TestGatewayBehaviour = { delayMs: 0, refusedDevices: new Set(), failWith: undefined, record: true };
  #inflight = new Set<() => void>();

  #port = 0;

  private constructor(private readonly server: Server) {}

  get port(): number {
    return this.#port;
  }

  /** Starts on 127.0.0.1 (port 0 = ephemeral; pass a port to restart on the same address). */
  static async start(port = 0): Promise<TestGateway> {
    const server = new Server();
    const gw = new TestGateway(server);
    server.addService(GatewayServiceService, {
      pushMessage: (call: ServerUnaryCall<PushMessageRequest, PushMessageResponse>, cb: sendUnaryData<PushMessageResponse>) =>
        void gw.#handle(cb, () => gw.#pushMessage(call.request)),
      pushBatch: (call: ServerUnaryCall<PushBatchRequest, PushBatchResponse>, cb: sendUnaryData<PushBatchResponse>) =>
        void gw.#handle(cb, () => gw.#pushBatch(call.request)),
    });
    gw.#port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return gw;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Pushes accepted for one message. */
  pushesOf(msgId: string): RecordedPush[] {
    return this.pushes.filter((p) => p.message.msgId === msgId);
  }

  /** Dies like a crashed process: open connections are reset, in-flight calls never answer. */
  kill(): void {
    this.server.forceShutdown();
    for (const wake of this.#inflight) wake();
  }

  async stop(): Promise<void> {
    for (const wake of this.#inflight) wake();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }

  async #handle<Res>(cb: sendUnaryData<Res>, work: () => Res): Promise<void> {
    this.calls += 1;
    if (this.behaviour.delayMs > 0) await this.#delay(this.behaviour.delayMs);
    if (this.behaviour.failWith !== undefined) {
      cb({ code: this.behaviour.failWith, details: 'test gateway told to fail' } as ServiceError, null);
      return;
    }
    cb(null, work());
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#inflight.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#inflight.add(wake);
    });
  }

  #deliver(userId: string, deviceId: string, message: PushEnvelope, method: RecordedPush['method']): DeviceResult {
    if (this.behaviour.refusedDevices.has(deviceId)) {
      return { userId, deviceId, msgId: message.msgId, delivered: false, reason: 'DEVICE_NOT_CONNECTED' };
    }
    this.delivered += 1;
    if (this.behaviour.record) this.pushes.push({ userId, deviceId, message, method, at: Date.now() });
    return { userId, deviceId, msgId: message.msgId, delivered: true, reason: '' };
  }

  #pushMessage(req: PushMessageRequest): PushMessageResponse {
    const message = req.message;
    if (!message) return { results: [] };
    return { results: req.deviceIds.map((d) => this.#deliver(req.userId, d, message, 'PushMessage')) };
  }

  #pushBatch(req: PushBatchRequest): PushBatchResponse {
    const results: DeviceResult[] = [];
    for (const t of req.targets) {
      const message = req.messages[t.messageIndex];
      if (!message) continue;
      for (const d of t.deviceIds) results.push(this.#deliver(t.userId, d, message, 'PushBatch'));
    }
    return { results };
  }
}
