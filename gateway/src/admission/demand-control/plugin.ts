import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { RequestContext } from '../../context';
import type { ActiveSupergraph } from '../../execution/supergraph';
import type { RecordCostEstimate } from '../../telemetry/gateway-metrics';
import type { DemandControlConfig } from './config';
import { costSchema, estimateCost, type CostSchema } from './estimate';

const STAGE = 'admission';

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
    const fragments = Object.fromEntries(request.document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d]] : [])));
    const estimated = estimateCost(this.costSchemaOf(this.supergraph()), request.operation, fragments, request.request.variables ?? {});
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
