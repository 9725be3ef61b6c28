import { booleanFromEnv } from '@switchyard/service-kit';
import { z } from 'zod';

const limit = z.coerce.number().int().positive();

/**
 * Operation limits under Apollo Router's names. The defaults fit this platform's schema with room to
 * spare: its deepest real query is depth 7 and GraphiQL's or Sandbox's introspection query is depth 15,
 * height 230 and under 200 tokens.
 */
export const operationLimitsConfigSchema = z
  .object({
    /** Deepest field nesting, fragments expanded; a root field is depth 1. */
    max_depth: limit.default(15),
    /** Distinct fields, fragments expanded (an aliased duplicate of a field is not counted). */
    max_height: limit.default(300),
    /** Aliased fields, fragments expanded. */
    max_aliases: limit.default(30),
    /** Fields of the root selection set, fragments expanded; each alias counts. */
    max_root_fields: limit.default(20),
    /** Directive applications, fragments expanded. */
    max_directives: limit.default(50),
    /** Lexical tokens in the document; parsing stops at the first token past it. */
    parser_max_tokens: limit.default(5000),
    /** Deepest nesting of selection sets, list and object values and list types in one definition. */
    parser_max_recursion: limit.default(500),
    /** Log and record the operation limits (max_*) instead of refusing; parser limits always refuse. */
    warn_only: booleanFromEnv.default(false),
  })
  .strict()
  .default({});

export type OperationLimitsConfig = z.infer<typeof operationLimitsConfigSchema>;
