import { metrics, type Counter, type Meter } from '@opentelemetry/api';
import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLError } from 'graphql';
import type { RequestContext } from '../../core/context';
import { Refusal, type GatewayPlugin, type PlanningChange, type PlanningInput } from '../../core/plugin';
import type { ActiveSupergraph } from '../../execution/supergraph';
import { completeResponse, removedPaths, UNAUTHORIZED, unauthorizedError, type Removal } from './complete';
import type { AuthorizationConfig } from './config';
import { explainDenial } from './explain';
import { grantOf, policyOf, type Grant, type Policy } from './policy';
import { prune, type Pruned } from './prune';

/**
 * Pruning results per supergraph version, operation document (the core hands the same parsed document
 * for the same operation text) and grant: the hot path walks an operation once per distinct grant, then
 * only looks it up. `null` caches "nothing to remove".
 */
const results = new WeakMap<ActiveSupergraph, WeakMap<DocumentNode, Map<string, Pruned | null>>>();

function pruneCached(document: DocumentNode, supergraph: ActiveSupergraph, policy: Policy, grant: Grant): Pruned | undefined {
  let byDocument = results.get(supergraph);
  if (!byDocument) results.set(supergraph, (byDocument = new WeakMap()));
  let byGrant = byDocument.get(document);
  if (!byGrant) byDocument.set(document, (byGrant = new Map()));
  let pruned = byGrant.get(grant.key);
  if (pruned === undefined) {
    pruned = prune(document, supergraph.schema, policy, grant) ?? null;
    byGrant.set(grant.key, pruned);
  }
  return pruned ?? undefined;
}

/**
 * Enforces @authenticated, @requiresScopes and @policy before planning, as Apollo Router does: unauthorized
 * fields leave the operation (no subgraph is asked for them) and the response gets null at their paths
 * with one UNAUTHORIZED_FIELD_OR_TYPE error each; or, with reject_unauthorized, the operation is refused.
 * @skip and @include are read with the coerced variables, defaults applied, as execution reads them.
 * With explain_denials each error also says what the caller lacks: a credential, or which scopes.
 */
export function useAuthorization(config: AuthorizationConfig, meter: Meter = metrics.getMeter('switchyard-gateway')): GatewayPlugin {
  const directives = config.directives;
  /** Denials per schema coordinate and mode (enforced, dry_run), on the gateway's /metrics. */
  const denials = meter.createCounter('switchyard.authorization.denials', {
    description: 'Selections removed (or, in dry_run, that would be) for an unmet @authenticated, @requiresScopes or @policy',
  });
  return {
    name: 'authorization',
    stage: 'authorization',
    beforePlanning: (context, input) => (directives.enabled ? authorize(context, input) : undefined),
  };

  function authorize(context: RequestContext, { document, original }: PlanningInput): PlanningChange | undefined {
    const supergraph = original.served.supergraph;
    const policy = policyOf(supergraph);
    if (policy.fields.size === 0 && policy.types.size === 0) return undefined;
    const grant = grantOf(policy, context.principal, config.policies);
    const pruned = pruneCached(document, supergraph, policy, grant);
    if (!pruned) return undefined;
    const operation = getOperationAST(document, original.operationName);
    if (!operation) return undefined;
    const variables = original.variables;
    const fragments = new Map(
      document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
    );
    const coordinates = [...new Set(pruned.denials.map((d) => d.coordinate))];
    const mode = directives.dry_run ? 'dry_run' : 'enforced';
    const refusing = !directives.dry_run && directives.reject_unauthorized;
    audit(context, coordinates, mode, denials, !refusing);
    if (directives.dry_run) return undefined;
    const coordinateOf = new Map<object, string>(pruned.denials.map((d) => [d.node, d.coordinate]));
    const errorsFor = (removals: Removal[]) =>
      dedupe(removals).map(({ path, node }) => {
        const coordinate = coordinateOf.get(node)!;
        return unauthorizedError(path, config.explain_denials ? explainDenial(policy.fields.get(coordinate) ?? policy.types.get(coordinate), grant) : undefined);
      });
    if (refusing) {
      // The core records the refusal as this stage's decision, with the coordinates.
      const errors = errorsFor(removedPaths(operation, fragments, pruned.removed, variables));
      throw new Refusal(400, UNAUTHORIZED, `unauthorized: ${coordinates.join(', ')}`, { errors, extensions: { coordinates } });
    }
    return {
      document: pruned.document,
      cacheKey: pruned.cacheKey,
      completeResult(result) {
        const { data, removals } = completeResponse(result.data, supergraph.schema, operation, fragments, pruned.removed, variables);
        const errors: GraphQLError[] = errorsFor(removals);
        (result as { data?: unknown }).data = data;
        if (errors.length) (result as { errors?: readonly GraphQLError[] }).errors = [...errors, ...(result.errors ?? [])];
      },
    };
  }
}

function dedupe(removals: Removal[]): Removal[] {
  const seen = new Set<string>();
  return removals.filter(({ path }) => {
    const key = JSON.stringify(path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One log event, one decision and one count per coordinate for every request with a denial. */
function audit(context: RequestContext, coordinates: string[], mode: 'enforced' | 'dry_run', denials: Counter, decide: boolean): void {
  const { principal } = context;
  context.logger.warn(
    {
      event: 'authorization.denied',
      requestId: context.requestId,
      principal: { kind: principal.kind, id: principal.id },
      scopes: principal.scopes,
      coordinates,
      decision: mode === 'enforced' ? 'enforced' : 'dry-run',
    },
    mode === 'enforced' ? 'unauthorized selections removed' : 'unauthorized selections would be removed (dry run)',
  );
  if (decide) {
    context.decisions.push({
      stage: 'authorization',
      code: UNAUTHORIZED,
      enforced: mode === 'enforced',
      message: `unauthorized: ${coordinates.join(', ')}`,
      details: { coordinates },
    });
  }
  for (const coordinate of coordinates) denials.add(1, { coordinate, mode });
}
