/** A function bundle run as its own process, as the crash tests kill and restart it. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Life {
  readonly proc: ChildProcess;
  /** Settles when the process has exited, with its code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

/** `node <entry>` with this env; stdout ignored, stderr shown (the bundle's warnings and errors). */
export function spawnBundle(entry: string, env: NodeJS.ProcessEnv): Life {
  const proc = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, exited };
}
