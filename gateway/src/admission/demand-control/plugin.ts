import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { GraphQLError, type DocumentNode } from 'graphql';
import type { RequestContext } from '../../context';
import type { ActiveSupergraph } from '../../execution/supergraph';
import type { RecordCostEstimate } from '../../telemetry/gateway-metrics';
import type { DemandControlConfig } from './config';
import { costSchema, estimateCost, type CostSchema } from './estimate';

const STAGE = 'admission';
const MAX_ESTIMATES_PER_DOCUMENT = 256;

export interface CostAssessment {
  estimated: number;
  max: number;
  mode: DemandControlConfig['mode'];
  result: 'COST_OK' | 'COST_ESTIMATED_TOO_EXPENSIVE';
}

/**
 * Demand control: the static estimate of each resolved operation, before planning, from the @cost and
 * @listSize applications in the raw supergraph. Over the maximum, enforce refuses the operation with
 * COST_ESTIMATED_TOO_EXPENSIVE and measure logs and records it. A client that sends
 * `"extensions": { "cost": true }` gets the assessment back in the response's extensions.cost.
 */
export class DemandControl {
  private readonly assessments = new WeakMap<RequestContext, CostAssessment>();
  private readonly schemas = new WeakMap<ActiveSupergraph, CostSchema>();
  /**
   * Estimates by cost schema, document (Apollo Server hands the same parsed document for the same
   * operation text), operation name and variables: a walk of the cross-subgraph benchmark query costs
   * about 0.1 ms, and clients send the same few operations over and over.
   */
  private readonly estimates = new WeakMap<CostSchema, WeakMap<DocumentNode, Map<string, number>>>();

  constructor(
    private readonly config: DemandControlConfig,
    private readonly supergraph: () => ActiveSupergraph,
    /** Told each estimate once, as it is computed (the cost.estimated histogram). */
    private readonly recordEstimate?: RecordCostEstimate,
  ) {}

  /** The request's assessment, computed once (the rate limiter asks too). */
  assess(request: GraphQLRequestContext<RequestContext>): CostAssessment | undefined {
    const known = this.assessments.get(request.contextValue);
    if (known) return known;
    if (!request.operation || !request.document) return undefined;
    const estimated = this.estimate(request.document, request.operation, request.request.variables ?? {});
    const { max } = this.config.strategy.static_estimated;
    const assessment: CostAssessment = { estimated, max, mode: this.config.mode, result: estimated > max ? 'COST_ESTIMATED_TOO_EXPENSIVE' : 'COST_OK' };
    this.assessments.set(request.contextValue, assessment);
    this.recordEstimate?.(estimated, assessment.result);
    return assessment;
  }

  /** What the rate limiter charges: the estimate, or nothing for an operation refused as too expensive. */
  chargeableCost(request: GraphQLRequestContext<RequestContext>): number {
    const assessment = this.assess(request);
    if (!assessment || this.refuses(assessment)) return 0;
    return assessment.estimated;
  }

  plugin(): ApolloServerPlugin<RequestContext> {
    return {
      requestDidStart: async () => ({
        didResolveOperation: async (request) => {
          if (!this.config.enabled) return;
          const assessment = this.assess(request)!;
          const { contextValue: context } = request;
          context.logger.debug({ estimatedCost: assessment.estimated }, 'estimated cost');
          if (assessment.result === 'COST_OK') return;
          const enforced = this.refuses(assessment);
          const message = `Estimated cost ${assessment.estimated} exceeds the maximum of ${assessment.max}.`;
          context.decisions.push({ stage: STAGE, code: 'COST_ESTIMATED_TOO_EXPENSIVE', enforced, message, details: { estimatedCost: assessment.estimated, maxCost: assessment.max } });
          if (!enforced) {
            context.logger.warn({ estimatedCost: assessment.estimated, maxCost: assessment.max, operationName: request.operationName }, `operation over the cost maximum (measure): ${message}`);
            return;
          }
          throw new GraphQLError(message, {
            extensions: { code: 'COST_ESTIMATED_TOO_EXPENSIVE', estimatedCost: assessment.estimated, maxCost: assessment.max, http: { status: 400 } },
          });
        },

        willSendResponse: async (request) => {
          const { response } = request;
          if (!this.config.enabled || request.request.extensions?.cost !== true || response.body.kind !== 'single') return;
          const assessment = this.assessments.get(request.contextValue);
          if (!assessment) return;
          response.body.singleResult.extensions = { ...response.body.singleResult.extensions, cost: assessment };
        },
      }),
    };
  }

  private estimate(document: DocumentNode, operation: NonNullable<GraphQLRequestContext<RequestContext>['operation']>, variables: Record<string, unknown>): number {
    const schema = this.costSchemaOf(this.supergraph());
    let byDocument = this.estimates.get(schema);
    if (!byDocument) this.estimates.set(schema, (byDocument = new WeakMap()));
    let byRequest = byDocument.get(document);
    if (!byRequest) byDocument.set(document, (byRequest = new Map()));
    // Variables matter only to an operation that declares some (slicing arguments may come from them).
    const key = `${operation.name?.value ?? ''}\u0000${operation.variableDefinitions?.length ? JSON.stringify(variables) : ''}`;
    let estimated = byRequest.get(key);
    if (estimated === undefined) {
      const fragments = Object.fromEntries(document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d]] : [])));
      estimated = estimateCost(schema, operation, fragments, variables);
      // One document sent with ever new variables must not grow without bound.
      if (byRequest.size >= MAX_ESTIMATES_PER_DOCUMENT) byRequest.clear();
      byRequest.set(key, estimated);
    }
    return estimated;
  }

  private refuses(assessment: CostAssessment): boolean {
    return this.config.enabled && this.config.mode === 'enforce' && assessment.result !== 'COST_OK';
  }

  private costSchemaOf(supergraph: ActiveSupergraph): CostSchema {
    let schema = this.schemas.get(supergraph);
    if (!schema) {
      schema = costSchema(supergraph.schema, supergraph.directiveNames, this.config.strategy.static_estimated.list_size);
      this.schemas.set(supergraph, schema);
    }
    return schema;
  }
}
