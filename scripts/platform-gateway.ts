import { resolve } from 'node:path';

/**
 * The gateway's config file as `npm start` runs it (the Kubernetes base's policy on a laptop; the file
 * says why each setting). tests/platform/service-config.test.ts holds it to k8s/kustomize/base.
 */
export const PLATFORM_GATEWAY_CONFIG = resolve(__dirname, 'platform-gateway.yaml');
