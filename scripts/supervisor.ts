/**
 * Runs services as child processes, one process each, so one busy service cannot stall the others.
 * Written by hand because what it needs is small and specific (ready lines, prefixed output, restart
 * with backoff, a failed first start ends the run); process managers such as pm2 bring a daemon and
 * far more than a development `npm start` wants.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface ServiceSpec {
  /** Prefixes the service's output. The service tells it is ready with the stdout line `<name> ready at <url>`. */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface SupervisorOptions {
  /** Started together; stopped one at a time in reverse order, so a service stops before the ones it calls. */
  services: ServiceSpec[];
  stdout?: Writable;
  stderr?: Writable;
  /** Delay before the first restart; it doubles with each crash in a row, up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** A run that stayed ready this long counts as healthy: the next crash waits restartDelayMs again. */
  stableAfterMs?: number;
  /** Runs a service gets to print its first ready line; after that many early exits the start fails. */
  startAttempts?: number;
  /** How long a service may take to exit after SIGTERM before it gets SIGKILL. */
  stopTimeoutMs?: number;
}

export interface Supervisor {
  /** Each service's URL from its ready line, once all have printed one; rejects with a StartFailure. */
  readonly ready: Promise<Record<string, string>>;
  /** Stops every service (SIGTERM, then SIGKILL after stopTimeoutMs) and resolves once all have exited. */
  stop(): Promise<void>;
}

/** A service exited before its first ready line on every attempt it had. */
export class StartFailure extends Error {
  constructor(
    readonly service: string,
    readonly lastOutput: string[],
    how: string,
    attempts: number,
  ) {
    super(
      `${service} failed to start: it ${how} on each of ${attempts} attempts. Its last output:\n` +
        (lastOutput.length ? lastOutput.map((line) => `  ${line}`).join('\n') : '  (none)'),
    );
  }
}

const LAST_OUTPUT_LINES = 20;

interface Supervised {
  spec: ServiceSpec;
  child?: ChildProcess;
  exited?: Promise<void>;
  /** When the current run printed its ready line. */
  readyAt?: number;
  attempts: number;
  crashesInARow: number;
  everReady: boolean;
  lastOutput: string[];
  restartTimer?: NodeJS.Timeout;
}

export function supervise(options: SupervisorOptions): Supervisor {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const restartDelayMs = options.restartDelayMs ?? 1000;
  const maxRestartDelayMs = options.maxRestartDelayMs ?? 30_000;
  const stableAfterMs = options.stableAfterMs ?? 30_000;
  const startAttempts = options.startAttempts ?? 3;
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;
  const width = Math.max(...options.services.map((s) => s.name.length));

  const services: Supervised[] = options.services.map((spec) => ({
    spec,
    attempts: 0,
    crashesInARow: 0,
    everReady: false,
    lastOutput: [],
  }));
  const urls: Record<string, string> = {};
  let stopping = false;
  let settle: { resolve(urls: Record<string, string>): void; reject(err: Error): void };
  const ready = new Promise<Record<string, string>>((resolve, reject) => (settle = { resolve, reject }));
  // Callers may stop before awaiting readiness; a failure then is already reported by stop's caller.
  ready.catch(() => undefined);

  // If the supervisor itself dies (an exception, process.exit), its services must not live on.
  const killAll = () => services.forEach((s) => signalGroup(s.child, 'SIGKILL'));
  process.on('exit', killAll);

  function relay(s: Supervised, input: Readable, output: Writable, onLine?: (line: string) => void) {
    const prefix = `${s.spec.name.padEnd(width)} | `;
    createInterface({ input, crlfDelay: Infinity }).on('line', (line) => {
      output.write(`${prefix}${line}\n`);
      s.lastOutput.push(line);
      if (s.lastOutput.length > LAST_OUTPUT_LINES) s.lastOutput.shift();
      onLine?.(line);
    });
  }

  function launch(s: Supervised) {
    s.restartTimer = undefined;
    s.readyAt = undefined;
    s.lastOutput = [];
    if (!s.everReady) s.attempts++;
    const child = spawn(s.spec.command, s.spec.args, {
      cwd: s.spec.cwd,
      env: s.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which stops services in order, once each.
      detached: true,
    });
    s.child = child;
    const readyLine = `${s.spec.name} ready at `;
    relay(s, child.stdout!, stdout, (line) => {
      if (line.startsWith(readyLine)) onReady(s, line.slice(readyLine.length).trim());
    });
    relay(s, child.stderr!, stderr);
    child.on('error', (err) => s.lastOutput.push(err.message));
    s.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        if (s.child === child) s.child = undefined;
        resolve();
        onExit(s, signal ? `was killed by ${signal}` : `exited with code ${code}`);
      }),
    );
  }

  function onReady(s: Supervised, url: string) {
    s.readyAt = Date.now();
    urls[s.spec.name] = url;
    s.everReady = true;
    if (services.every((other) => other.everReady)) settle.resolve({ ...urls });
  }

  function onExit(s: Supervised, how: string) {
    if (stopping) return;
    let delay: number;
    if (!s.everReady) {
      if (s.attempts >= startAttempts) {
        settle.reject(new StartFailure(s.spec.name, s.lastOutput, how, s.attempts));
        return;
      }
      delay = backoff(s.attempts - 1);
    } else {
      if (s.readyAt !== undefined && Date.now() - s.readyAt >= stableAfterMs) s.crashesInARow = 0;
      delay = backoff(s.crashesInARow++);
    }
    stderr.write(`${s.spec.name} ${how}; restarting in ${formatDelay(delay)}\n`);
    s.restartTimer = setTimeout(() => launch(s), delay);
  }

  const backoff = (crashes: number) => Math.min(restartDelayMs * 2 ** crashes, maxRestartDelayMs);

  async function stopOne(s: Supervised) {
    const { child, exited } = s;
    if (!child || !exited) return;
    signalGroup(child, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      stderr.write(`${s.spec.name} did not stop within ${formatDelay(stopTimeoutMs)}; killing it\n`);
      signalGroup(child, 'SIGKILL');
      await exited;
    }
  }

  let stopped: Promise<void> | undefined;
  function stop() {
    stopping = true;
    stopped ??= (async () => {
      for (const s of services) clearTimeout(s.restartTimer);
      for (const s of [...services].reverse()) await stopOne(s);
      process.off('exit', killAll);
    })();
    return stopped;
  }

  services.forEach(launch);
  return { ready, stop };
}

/** Signals the child's whole process group, so anything it started goes too. */
function signalGroup(child: ChildProcess | undefined, signal: NodeJS.Signals) {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

const formatDelay = (ms: number) => (ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`);
