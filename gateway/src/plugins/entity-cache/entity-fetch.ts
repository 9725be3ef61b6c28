import type { SubgraphAnswer, SubgraphFetch } from '../../core/plugin';

/** One entity as the planner asks a subgraph for it: its type, key fields and any fields it @requires. */
export interface Representation {
  readonly __typename: string;
  readonly [field: string]: unknown;
}

/** Apollo Gateway's entity fetches select exactly this, with the representations in their variable. */
const ENTITIES_FIELD = /\b_entities\s*\(\s*representations\s*:\s*\$representations\s*\)/;
/** The planner names each fetch after the client's operation; what the fetch selects does not depend on it. */
const OPERATION_NAME = /^(\s*query)\s+[_A-Za-z][_0-9A-Za-z]*/;

/** The representations of an `_entities` fetch, or undefined for any other fetch (a root field, a mutation). */
export function representationsOf(fetch: SubgraphFetch): readonly Representation[] | undefined {
  if (!fetch.query || !ENTITIES_FIELD.test(fetch.query)) return undefined;
  const representations = fetch.variables?.representations;
  if (!Array.isArray(representations)) return undefined;
  const valid = representations.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r) && typeof (r as Representation).__typename === 'string');
  return valid ? (representations as Representation[]) : undefined;
}

/** What the fetch's answer for one representation depends on besides it: the selection and its other variables. */
export function selectionOf(fetch: SubgraphFetch): unknown[] {
  const { representations: _representations, ...others } = fetch.variables ?? {};
  return [fetch.query!.replace(OPERATION_NAME, '$1'), others];
}

/** `Product` and, when the representation has an `id`, `Product:<id>`: the response cache's tags for the same data. */
export function tagsOfRepresentation(representation: Representation): string[] {
  const { __typename: type, id } = representation;
  return typeof id === 'string' || typeof id === 'number' ? [type, `${type}:${id}`] : [type];
}

type Errors = NonNullable<SubgraphAnswer['body']['errors']>;

/**
 * The indexes (in the fetch sent) of the entities its errors touch, or undefined when an error touches
 * the whole fetch (no path into `_entities`): then no entity of it is trusted.
 */
export function entitiesWithErrors(errors: Errors | undefined): Set<number> | undefined {
  const touched = new Set<number>();
  for (const error of errors ?? []) {
    const path = error.path;
    if (!Array.isArray(path) || path[0] !== '_entities' || typeof path[1] !== 'number') return undefined;
    touched.add(path[1]);
  }
  return touched;
}

/**
 * The answer to the whole fetch from the cached entities and the answer to the fetch sent for the rest:
 * each entity back at its own index, and each error's path moved from the index it had in the fetch sent
 * to the entity's own. `sentIndexes[j]` is the original index of the j-th entity sent.
 */
export function mergeEntities(cached: readonly unknown[], sentIndexes: readonly number[], answer: SubgraphAnswer['body']): SubgraphAnswer['body'] {
  const errors = answer.errors?.map((error) => {
    const path = error.path;
    if (!Array.isArray(path) || path[0] !== '_entities' || typeof path[1] !== 'number' || sentIndexes[path[1]] === undefined) return error;
    return { ...error, path: ['_entities', sentIndexes[path[1]], ...path.slice(2)] };
  });
  const fetched = answer.data?._entities;
  if (!Array.isArray(fetched) || fetched.length !== sentIndexes.length) return { ...answer, ...(errors && { errors }) };
  const entities = [...cached];
  for (const [j, i] of sentIndexes.entries()) entities[i] = fetched[j];
  return { ...answer, data: { ...answer.data, _entities: entities }, ...(errors && { errors }) };
}
