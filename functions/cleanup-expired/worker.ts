/**
 * The long-running form of cleanup-expired (the all-in-one local process, or a
 * Deployment if an operator prefers one to the CronJob): a run at start, then one every
 * CLEANUP_INTERVAL. Runs never overlap within the process (the timer is re-armed only
 * after a run ends) nor across processes (the database lock). stop() cuts the current
 * run short between batches and waits for it.
 */
import type { Worker } from '../../shared/runtime/types';
import { runCleanup, type CleanupPorts, type CleanupReport, type CleanupSettings } from './run';

export class CleanupWorker implements Worker {
  readonly name = 'cleanup-expired';
  #timer?: NodeJS.Timeout;
  #running?: Promise<CleanupReport>;
  #abort = new AbortController();
  #last?: CleanupReport;
  #runs = 0;

  constructor(
    private readonly ports: CleanupPorts,
    private readonly settings: CleanupSettings,
    private readonly intervalMs: number,
  ) {}

  async start(): Promise<void> {
    this.#schedule(0);
  }

  /** Runs now unless a run is in progress (then returns that run's report). */
  runNow(): Promise<CleanupReport> {
    this.#running ??= runCleanup(this.ports, this.settings, this.#abort.signal)
      .then((report) => {
        this.#runs += 1;
        this.#last = report;
        return report;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#running;
  }

  ready(): boolean {
    return !this.#abort.signal.aborted;
  }

  stats(): Record<string, unknown> {
    return { ready: this.ready(), runs: this.#runs, running: this.#running !== undefined, last: this.#last };
  }

  #schedule(delayMs: number): void {
    if (this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => {
      void this.runNow().then(() => this.#schedule(this.intervalMs));
    }, delayMs);
    this.#timer.unref();
  }
}
