import { z } from 'zod';

export const admissionConfigSchema = z
  .object({
    /** Deepest selection nesting accepted, not counting introspection (__schema/__type) subtrees. */
    maxDepth: z.coerce.number().int().positive().default(15),
  })
  .strict()
  .default({});

export type AdmissionConfig = z.infer<typeof admissionConfigSchema>;
