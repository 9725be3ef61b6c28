import { booleanFromEnv } from '@switchyard/service-kit';
import { z } from 'zod';
import { headerName } from '../../http/config';

export const csrfConfigSchema = z
  .object({
    unsafe_disabled: booleanFromEnv.default(false).describe('Turn off CSRF prevention (not recommended).'),
    required_headers: z
      .array(headerName)
      .default(['x-apollo-operation-name', 'apollo-require-preflight'])
      .describe('A request without a preflight-forcing content type must carry one of these headers.'),
  })
  .strict()
  .default({});

export type CsrfConfig = z.infer<typeof csrfConfigSchema>;
