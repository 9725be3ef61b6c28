import { integer } from '@switchyard/service-kit';
import { z } from 'zod';

/** The operation limits under `limits` (Router's names); the gateway merges them with http/'s limits.http_*. */
export const admissionLimitKeys = z.object({
  max_depth: integer({ min: 1 })
    .default(15)
    .describe('Deepest selection nesting accepted, not counting introspection (__schema/__type) subtrees.'),
});
