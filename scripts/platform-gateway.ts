import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The gateway's config file as `npm start` runs it (the Kubernetes base's policy on a laptop; the file
 * says why each setting). tests/platform/service-config.test.ts holds it to k8s/kustomize/base.
 */
export const PLATFORM_GATEWAY_CONFIG = resolve(__dirname, 'platform-gateway.yaml');

/** The API key file the platform config names (api_keys.file), relative to the repository root. */
const PLATFORM_API_KEYS_FILE = resolve(__dirname, '..', '.switchyard', 'api-keys.yaml');

/**
 * Makes the platform config's API key file, empty, unless it exists (flag wx: never overwritten): the
 * gateway refuses to start without it, and only `npm run apikey` or the operator fills it.
 */
export function ensurePlatformApiKeysFile(): void {
  mkdirSync(dirname(PLATFORM_API_KEYS_FILE), { recursive: true });
  try {
    writeFileSync(PLATFORM_API_KEYS_FILE, '[]\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
