import { booleanFromEnv, integer } from '@switchyard/service-kit';
import { z } from 'zod';

const limit = integer({ min: 1 });

/**
 * Operation limits under Apollo Router's names. The defaults fit this platform's schema with room to
 * spare: its deepest real query is depth 7 and GraphiQL's or Sandbox's introspection query is depth 15,
 * height 230 and under 200 tokens. The gateway merges them with http/'s limits.http_* into `limits`.
 */
export const admissionLimitKeys = z.object({
  max_depth: limit.default(15).describe('Deepest field nesting, fragments expanded; a root field is depth 1.'),
  max_height: limit.default(300).describe('Distinct fields, fragments expanded (an aliased duplicate of a field is not counted).'),
  max_aliases: limit.default(30).describe('Aliased fields, fragments expanded.'),
  max_root_fields: limit.default(20).describe('Fields of the root selection set, fragments expanded; each alias counts.'),
  max_directives: limit.default(50).describe('Directive applications, fragments expanded.'),
  parser_max_tokens: limit.default(5000).describe('Lexical tokens in the document; parsing stops at the first token past it.'),
  parser_max_recursion: limit.default(500).describe('Deepest nesting of selection sets, list and object values and list types in one definition.'),
  warn_only: booleanFromEnv.default(false).describe('Log and record the operation limits (max_*) instead of refusing; parser limits always refuse.'),
});

export type OperationLimitsConfig = z.infer<typeof admissionLimitKeys>;
