import { freePort, npmRun, type WatchedProcess } from './processes';

export type Ports = Record<'gateway' | 'users' | 'products' | 'orders' | 'issuer' | 'traces', number>;

export async function freePorts(): Promise<Ports> {
  return { gateway: await freePort(), users: await freePort(), products: await freePort(), orders: await freePort(), issuer: await freePort(), traces: await freePort() };
}

/** The env vars that tell npm start, and the commands that talk to it (token, trace, scenarios), where each service is. */
export function portsEnv(ports: Ports): Record<string, string> {
  return {
    GATEWAY_PORT: String(ports.gateway),
    USERS_PORT: String(ports.users),
    PRODUCTS_PORT: String(ports.products),
    ORDERS_PORT: String(ports.orders),
    ISSUER_PORT: String(ports.issuer),
    TRACES_PORT: String(ports.traces),
  };
}

export interface NpmStart {
  npm: WatchedProcess;
  /** Everything npm start printed so far. */
  stdout(): string;
  stderr(): string;
}

/** `npm start` as a user's shell runs it, on the given ports (and with `env`), once it printed its summary. */
export async function npmStart(ports: Ports, env: Record<string, string> = {}): Promise<NpmStart> {
  const npm = npmRun('start', {
    ...env,
    ...portsEnv(ports),
    // Services log at info, so there is more of their output than the ready lines to check.
    LOG_LEVEL: 'info',
  });
  let stdout = '';
  let stderr = '';
  npm.child.stdout!.on('data', (d) => (stdout += d));
  npm.child.stderr!.on('data', (d) => (stderr += d));
  try {
    await npm.waitFor(/^ready in \d+ ms; Ctrl-C stops everything$/m, 150_000);
  } catch (err) {
    npm.signal('SIGKILL');
    throw err;
  }
  return { npm, stdout: () => stdout, stderr: () => stderr };
}

/** Ctrl-C in the terminal: SIGINT to npm's whole process group. */
export async function ctrlC(platform: NpmStart): Promise<number | null> {
  platform.npm.signal('SIGINT');
  return (await platform.npm.exited).code;
}
