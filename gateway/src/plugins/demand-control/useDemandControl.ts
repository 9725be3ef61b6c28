import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLError } from 'graphql';
import type { CostAssessment } from '../../core/context';
import { Refusal, type GatewayPlugin } from '../../core/plugin';
import type { ActiveSupergraph } from '../../execution/supergraph';
import type { DemandControlConfig } from './config';
import { checkSlicingArguments, costSchema, estimateCost, type CostSchema } from './estimate';

/** Estimates remembered across all documents, by the characters of their keys; the oldest go first. */
const MAX_REMEMBERED_KEY_CHARACTERS = 4 * 1024 * 1024;
/**
 * And by count: a key can be three characters ("\0{}" for no variables) while its entry, its document's map
 * and its place in the order cost a few hundred bytes, so characters alone would let a document cache that
 * churns (each parse a new document) keep over a million of them.
 */
const MAX_REMEMBERED_ESTIMATES = 10_000;
/** An estimate whose key (variables included) has more characters than this is computed every time, not kept. */
const MAX_KEY_CHARACTERS = 4 * 1024;

/**
 * Demand control (Router's demand_control, static_estimated): the cost of each operation from the @cost
 * and @listSize applications in the supergraph, estimated before planning on the operation that will
 * run: after authorization removed what the caller may not see, with the coerced variables. Over the
 * maximum, enforce refuses it with COST_ESTIMATED_TOO_EXPENSIVE and measure logs and records it. The
 * assessment goes on the context (the rate limiter charges it); a client that sends
 * `"extensions": { "cost": true }` gets it back in the response's extensions.cost.
 */
export function useDemandControl(config: DemandControlConfig): GatewayPlugin {
  const schemas = new WeakMap<ActiveSupergraph, CostSchema>();
  const estimates = new RememberedEstimates();
  const { max } = config.strategy.static_estimated;

  const schemaOf = (supergraph: ActiveSupergraph) => {
    let schema = schemas.get(supergraph);
    if (!schema) schemas.set(supergraph, (schema = costSchema(supergraph.schema, supergraph.directiveNames, config.strategy.static_estimated.list_size)));
    return schema;
  };

  return {
    name: 'demand_control',
    stage: 'admission',
    beforePlanning(context, { document, original }) {
      if (!config.enabled) return;
      const schema = schemaOf(original.served.supergraph);
      const outcome = estimates.get(schema, document, original.operationName, original.variables, () => {
        const operation = getOperationAST(document, original.operationName)!;
        const fragments = Object.fromEntries(
          document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
        );
        // A negative page size would take cost off the estimate (and refill a rate-limit budget): it is the client's error, before any estimate.
        const errors = checkSlicingArguments(schema, operation, fragments, original.variables);
        return errors.length > 0 ? errors : estimateCost(schema, operation, fragments, original.variables as Record<string, unknown>);
      });
      if (typeof outcome !== 'number') throw new Refusal(400, 'BAD_USER_INPUT', outcome[0]!.message, { errors: outcome });
      const estimated = outcome;
      const assessment: CostAssessment = { estimated, max, mode: config.mode, result: estimated > max ? 'COST_ESTIMATED_TOO_EXPENSIVE' : 'COST_OK' };
      context.cost = assessment;
      if (context.params?.extensions.cost === true) context.responseExtensions.cost = assessment;
      context.logger.debug({ estimatedCost: estimated }, 'estimated cost');
      if (assessment.result === 'COST_OK') return;
      const message = `Estimated cost ${estimated} exceeds the maximum of ${max}.`;
      const details = { estimatedCost: estimated, maxCost: max };
      if (config.mode === 'enforce') throw new Refusal(400, 'COST_ESTIMATED_TOO_EXPENSIVE', message, { extensions: details });
      context.decisions.push({ stage: 'admission', code: 'COST_ESTIMATED_TOO_EXPENSIVE', enforced: false, message, details });
      context.logger.warn({ ...details, operationName: original.operationName }, `operation over the cost maximum (measure): ${message}`);
    },
  };
}

/** An estimated cost, or why the operation cannot be estimated (a negative slicing argument). */
type Estimate = number | readonly GraphQLError[];

/**
 * Estimates by cost schema, document, operation name and coerced variables: a walk of a large operation
 * costs about 0.1 ms, and clients send the same few operations over and over. Only declared variables
 * are coerced, so a client cannot grow the key with variables the operation never reads; the whole store
 * is bounded by the characters of its keys.
 */
export class RememberedEstimates {
  private readonly byDocument = new WeakMap<CostSchema, WeakMap<DocumentNode, Map<string, Estimate>>>();
  /** Every remembered key in insertion order, to forget the oldest. */
  private readonly order: { keys: Map<string, Estimate>; key: string }[] = [];
  private characters = 0;

  /** Characters of the keys remembered, for tests of the bound. */
  get size(): number {
    return this.characters;
  }

  /** Estimates remembered, for tests of the bound. */
  get count(): number {
    return this.order.length;
  }

  get(schema: CostSchema, document: DocumentNode, operationName: string | undefined, variables: Readonly<Record<string, unknown>>, estimate: () => Estimate): Estimate {
    const key = `${operationName ?? ''}\u0000${JSON.stringify(variables)}`;
    if (key.length > MAX_KEY_CHARACTERS) return estimate();
    let documents = this.byDocument.get(schema);
    if (!documents) this.byDocument.set(schema, (documents = new WeakMap()));
    let keys = documents.get(document);
    if (!keys) documents.set(document, (keys = new Map()));
    const known = keys.get(key);
    if (known !== undefined) return known;
    const estimated = estimate();
    keys.set(key, estimated);
    this.order.push({ keys, key });
    this.characters += key.length;
    while (this.characters > MAX_REMEMBERED_KEY_CHARACTERS || this.order.length > MAX_REMEMBERED_ESTIMATES) {
      const oldest = this.order.shift()!;
      oldest.keys.delete(oldest.key);
      this.characters -= oldest.key.length;
    }
    return estimated;
  }
}
