import { booleanFromEnv, integer } from '@switchyard/service-kit';
import { z } from 'zod';

/** demand_control: Apollo Router's keys, with the static_estimated strategy (the only one). */
export const demandControlConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(true).describe('Estimate each operation\'s cost before planning (it is also what rate_limit charges). env DEMAND_CONTROL'),
    mode: z
      .enum(['measure', 'enforce'])
      .default('enforce')
      .describe('enforce refuses an operation over the maximum (COST_ESTIMATED_TOO_EXPENSIVE); measure only logs and records it. env DEMAND_CONTROL_MODE'),
    strategy: z
      .object({
        static_estimated: z
          .object({
            list_size: integer({ min: 0 }).default(10).describe('Assumed size of a list without @listSize.'),
            max: z.number().positive().default(10_000).describe('Highest estimated cost allowed.'),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

export type DemandControlConfig = z.infer<typeof demandControlConfigSchema>;

export const demandControlEnvBindings = {
  DEMAND_CONTROL: 'demand_control.enabled',
  DEMAND_CONTROL_MODE: 'demand_control.mode',
};
