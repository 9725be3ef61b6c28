import { booleanFromEnv, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';
import { isReservedRequestHeader, isReservedResponseHeader } from './reserved';

/** A header name as HTTP spells it (RFC 9110 token), compared in lower case. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be an HTTP header name')
  .transform((name) => name.toLowerCase());

/** A header value: no line breaks or other control characters, so a rule cannot split a request. */
const headerValue = z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must be a header value without control characters');

/** A regular expression over header names (matched case-insensitively). */
const namePattern = z.string().superRefine((pattern, ctx) => {
  try {
    new RegExp(pattern);
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `is not a regular expression: ${(err as Error).message}` });
  }
});

const oneOf = (keys: readonly string[]) => (rule: Record<string, unknown>) => keys.filter((key) => rule[key] !== undefined).length === 1;

const propagateFields = {
  named: headerName.optional().describe('The header to copy.'),
  matching: namePattern.optional().describe('Copy every header whose name matches this regular expression (case-insensitive).'),
  rename: headerName.optional().describe('With `named`: send it under this name.'),
  default: headerValue.optional().describe('With `named`: the value to send when there is none to copy.'),
};

type PropagateRule = { named?: string; matching?: string; rename?: string; default?: string };

const propagateChecks = <S extends z.ZodType<PropagateRule, z.ZodTypeDef, unknown>>(schema: S): z.ZodEffects<z.ZodEffects<S>> =>
  schema
    .refine(oneOf(['named', 'matching']), 'must have exactly one of named or matching')
    .refine((rule: PropagateRule) => rule.named !== undefined || (rule.rename === undefined && rule.default === undefined), 'rename and default go with named, not matching');

/** Where `insert.from_context` reads its value; an absent value (an anonymous operation's name) sends no header. */
export const CONTEXT_VALUES = ['client_name', 'client_version', 'operation_name', 'operation_type'] as const;
export type ContextValue = (typeof CONTEXT_VALUES)[number];

const requestRule = z.union([
  z.object({ propagate: propagateChecks(z.object(propagateFields).strict()) }).strict(),
  z
    .object({
      insert: z
        .object({ name: headerName, value: headerValue.optional(), from_context: z.enum(CONTEXT_VALUES).optional() })
        .strict()
        .refine(oneOf(['value', 'from_context']), 'must have exactly one of value or from_context'),
    })
    .strict(),
  z.object({ remove: z.object({ named: headerName.optional(), matching: namePattern.optional() }).strict().refine(oneOf(['named', 'matching']), 'must have exactly one of named or matching') }).strict(),
]);

const responseRule = z
  .object({
    propagate: propagateChecks(
      z
        .object({
          ...propagateFields,
          algorithm: z
            .enum(['first', 'last', 'append'])
            .default('first')
            .describe('When several subgraphs send it: the first answer\'s value, the last one\'s, or all of them joined with ", ". Set-Cookie always keeps every value.'),
        })
        .strict(),
    ),
  })
  .strict();

export type RequestHeaderRule = z.infer<typeof requestRule>;
export type ResponseHeaderRule = z.infer<typeof responseRule>;

const rulesSchema = z
  .object({
    request: z.array(requestRule).default([]).describe('Applied in order to each subgraph request: propagate from the client, insert, remove.'),
    response: z.array(responseRule).default([]).describe('Applied to each subgraph answer: what reaches the client.'),
  })
  .strict()
  .default({});

export type HeaderRules = z.infer<typeof rulesSchema>;

/**
 * headers, Apollo Router's key and shape: rules for `all` subgraphs, then those of `subgraphs.<name>`.
 * Without rules a subgraph gets none of the client's headers and the client none of a subgraph's.
 * Hop-by-hop headers, the request's framing and the signed identity headers are not a rule's to set:
 * a config whose rule names one is refused at start, and `matching` never matches one.
 */
export const headersConfigSchema = z
  .object({
    all: rulesSchema,
    subgraphs: z.record(z.string().min(1), rulesSchema).default({}).describe('Per subgraph, applied after `all`.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const sections: [string[], HeaderRules][] = [[['all'], config.all], ...Object.entries(config.subgraphs).map(([name, rules]): [string[], HeaderRules] => [['subgraphs', name], rules])];
    for (const [path, rules] of sections) {
      for (const [i, rule] of rules.request.entries()) {
        const [kind, body] = Object.entries(rule)[0] as [string, Record<string, string | undefined>];
        for (const key of ['named', 'rename', 'name'] as const) {
          const name = body[key];
          if (name !== undefined && isReservedRequestHeader(name)) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: [...path, 'request', i, kind, key], message: `${name} is a hop-by-hop, framing or signed identity header, which no rule may set or remove` });
          }
        }
      }
      for (const [i, { propagate }] of rules.response.entries()) {
        for (const key of ['named', 'rename'] as const) {
          const name = propagate[key];
          if (name !== undefined && isReservedResponseHeader(name)) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: [...path, 'response', i, 'propagate', key], message: `${name} is a hop-by-hop, framing or gateway-owned header, which no rule may set` });
          }
        }
      }
    }
  })
  .default({});

export type HeadersConfig = z.infer<typeof headersConfigSchema>;

/**
 * cache_control (Switchyard's key; Hive Router and Cosmo do the same): the client's Cache-Control merged
 * from the subgraphs' answers, restrictively. Off by default: the gateway then sends none.
 */
export const cacheControlConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(false).describe('Send clients Cache-Control merged from the subgraphs\' answers (no-store for mutations and errors). env CACHE_CONTROL'),
  })
  .strict()
  .default({});

export type CacheControlConfig = z.infer<typeof cacheControlConfigSchema>;

export const cacheControlEnvBindings: EnvBindings = { CACHE_CONTROL: 'cache_control.enabled' };
