/**
 * What npm start, the development issuer and npm run token must agree on, without the issuer's
 * dependencies: npm start reads it before it starts anything, so it stays cheap to load.
 */
export const DEFAULT_ISSUER_PORT = 4005;
export const DEV_AUDIENCE = 'switchyard';

/** The `iss` of every token, and so the gateway's JWT_ISSUER; the same URL whichever process signs. */
export const devIssuerUrl = (port: number) => `http://localhost:${port}`;

/** Reads a port number from the environment, or fails naming the variable. */
export function portFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number, got "${value}"`);
  return port;
}
