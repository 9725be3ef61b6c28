import { authentication } from './authentication';
import { authorization } from './authorization';
import { mesh } from './mesh';
import { rateLimit } from './rate-limit';
import type { Scenario } from './scenario';
import { tracing } from './tracing';

/**
 * Every scenario, in the order `npm run scenarios` runs them. Rate limiting comes after the others that
 * ask anonymously, though its own anonymous clients get addresses of their own where the OS allows.
 */
export const SCENARIOS: Scenario[] = [authentication, authorization, tracing, mesh, rateLimit];
