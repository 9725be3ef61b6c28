import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface WatchedProcess {
  child: ChildProcess;
  /** Signals the whole process group (npm, tsx and the service), as Ctrl-C in a terminal does. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with stdout once `pattern` appears in it; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code and all output once the process ends. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Runs `npm run <script> -- <args>` as a user would, with the given environment added. */
export function npmRun(script: string, env: Record<string, string>, args: string[] = []): WatchedProcess {
  return watch(spawn('npm', ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], spawnOptions(env)));
}

/**
 * Runs a service entry point under tsx, as the npm scripts do, with no npm process in between. Node loads
 * tsx itself: the tsx CLI would add a parent whose signal relay SIGKILLs a child that does not acknowledge
 * a signal within 60 ms, and then exits 143 (seen with the gateway on Node 24, right after it is ready).
 */
export function spawnService(entry: string, env: Record<string, string>, cwd = repoRoot): WatchedProcess {
  return watch(spawn(process.execPath, ['--import', 'tsx', '--conditions=source', entry], spawnOptions(env, cwd)));
}

/** Runs any command (say, compiled JavaScript under node) the same way. */
export function spawnCommand(command: string, args: string[], env: Record<string, string>, cwd = repoRoot): WatchedProcess {
  return watch(spawn(command, args, spawnOptions(env, cwd)));
}

/** A user's shell, not jest's: no NODE_ENV=test (which changes library behaviour), own process group. */
function spawnOptions(env: Record<string, string>, cwd = repoRoot) {
  const base = { ...process.env };
  delete base.NODE_ENV;
  return { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], detached: true };
}

function watch(child: ChildProcess): WatchedProcess {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    child.on('exit', (code) => r({ code, stdout, stderr })),
  );
  return {
    child,
    exited,
    signal(signal) {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    },
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; stderr: ${stderr}`)), timeoutMs);
        const check = () => {
          if (pattern.test(stdout)) {
            clearTimeout(timer);
            resolvePromise(stdout);
          }
        };
        child.stdout!.on('data', check);
        void exited.then(({ code }) => {
          clearTimeout(timer);
          reject(new Error(`exited with ${code} before ${pattern}; stderr: ${stderr}`));
        });
        check();
      });
    },
  };
}
