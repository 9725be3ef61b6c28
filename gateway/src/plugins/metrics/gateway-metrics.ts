import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import { DURATION_BUCKETS_S } from '@switchyard/service-kit';
import type { ClientIdentity, Decision } from '../../core/context';
import type { QueryPlanCacheObserver } from '../../execution/query-plan-cache';

/**
 * Distinct operation names labelled before the rest are counted as `other`: names are chosen by
 * clients, and each one is a set of series in Prometheus.
 */
export const OPERATION_NAME_LIMIT = 100;
/** Longer names are `other` whatever the count: a name is a label, not a payload. */
const OPERATION_NAME_MAX_LENGTH = 64;
const OTHER = 'other';
/** Distinct client name and version pairs labelled before the rest are counted as `other`. */
export const CLIENT_LIMIT = 50;
const UNKNOWN_CLIENT: ClientIdentity = { name: 'unknown', version: 'unknown' };
const OTHER_CLIENT: ClientIdentity = { name: OTHER, version: OTHER };

/** Bucket boundaries for estimated costs (demand control's points). */
const COST_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 50_000, 100_000, 1_000_000];

/** What a subgraph fetch came to: its HTTP status, or why there was none. */
export type RecordSubgraphFetch = (subgraph: string, seconds: number, status: number | undefined, errorType: string | undefined) => void;
export type RecordCostEstimate = (estimated: number, result: string) => void;

export type Outcome = 'success' | 'partial' | 'error';

/**
 * The gateway's own metrics, beside the HTTP server metrics service-kit records. Every attribute
 * object is made once per distinct label set and then reused, so recording allocates nothing on the
 * request path once the label sets have been seen.
 */
export class GatewayMetrics {
  private readonly operations;
  private readonly degraded;
  private readonly operationDuration: Histogram;
  private readonly decisions;
  private readonly subgraphFetches: Histogram;
  private readonly sharedFetches;
  private readonly sharedAttributes = new Map<string, Attributes>();
  private readonly costs: Histogram;
  private readonly deprecatedUses;
  private readonly overrides;
  private readonly overrideAttributes = new Map<string, Attributes>();
  private readonly deprecatedAttributes = new Map<string, Attributes>();
  /** Label sets of the operation metrics by name, type, outcome and client; names and clients are capped. */
  private readonly operationAttributes = new Map<string, Attributes>();
  private readonly operationNames = new Set<string>();
  private readonly clients = new Set<string>();
  private readonly decisionAttributes = new Map<string, Attributes>();
  private readonly fetchAttributes = new Map<string, Map<string, Attributes>>();
  private readonly costAttributes = new Map<string, Attributes>();
  private readonly degradedAttributes = new Map<string, Attributes>();
  private readonly sharedExecutions;
  private readonly sharedExecutionAttributes = new Map<string, Attributes>();

  constructor(private readonly meter: Meter) {
    this.operations = meter.createCounter('switchyard.graphql.operations', {
      unit: '{operation}',
      description: 'GraphQL operations, by name (capped), type, outcome and client name and version (capped).',
    });
    this.degraded = meter.createCounter('switchyard.graphql.operations.degraded', {
      unit: '{operation}',
      description: 'Responses with partial data because an optional subgraph failed (extensions.degraded), by operation name (capped).',
    });
    this.operationDuration = meter.createHistogram('switchyard.graphql.operation.duration', {
      unit: 's',
      description: 'Time from receiving a GraphQL request to sending its response, by name (capped), type, outcome and client (capped).',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.decisions = meter.createCounter('switchyard.decisions', {
      unit: '{decision}',
      description: 'What the stages decided about requests (refusals and warnings), by stage, code, reason and whether it was enforced.',
    });
    this.subgraphFetches = meter.createHistogram('http.client.request.duration', {
      unit: 's',
      description: 'Duration of subgraph fetches, by subgraph and status or error.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.deprecatedUses = meter.createCounter('switchyard.graphql.deprecated.usage', {
      unit: '{operation}',
      description: 'Operations that use a deprecated field, argument or enum value, by its schema coordinate and client name and version (capped): the evidence for removing it.',
    });
    this.overrides = meter.createCounter('switchyard.override.resolutions', {
      unit: '{field}',
      description: 'Fields moved by progressive override (@override with a percent(N) label) that operations selected, by schema coordinate and the subgraph that served them.',
    });
    this.sharedFetches = meter.createCounter('switchyard.subgraph.fetches.shared', {
      unit: '{fetch}',
      description: 'Subgraph queries not sent because an identical one was in flight (deduplicate_query), by subgraph.',
    });
    this.sharedExecutions = meter.createCounter('switchyard.graphql.operations.shared', {
      unit: '{operation}',
      description: 'Operations answered by an identical operation\'s execution in flight (traffic_shaping.router.dedupe) instead of their own, by operation name (capped).',
    });
    this.costs = meter.createHistogram('cost.estimated', {
      unit: '{cost}',
      description: 'Static estimated cost of operations (demand control), by result.',
      advice: { explicitBucketBoundaries: COST_BUCKETS },
    });
  }

  /** Counts and times one GraphQL request, once its response is sent. */
  countOperation(name: string, type: string, outcome: Outcome, seconds: number, client: ClientIdentity = UNKNOWN_CLIENT): void {
    const attributes = this.operationAttributesOf(name, type, outcome, client);
    this.operations.add(1, attributes);
    this.operationDuration.record(seconds, attributes);
  }

  /** One operation's uses of deprecated schema coordinates (see deprecatedUsesOf), each counted once. */
  countDeprecatedUses(coordinates: readonly string[], client: ClientIdentity = UNKNOWN_CLIENT): void {
    if (coordinates.length === 0) return;
    client = this.cappedClient(client);
    for (const coordinate of coordinates) {
      const key = `${coordinate}\u0000${client.name}\u0000${client.version}`;
      let attributes = this.deprecatedAttributes.get(key);
      if (!attributes) this.deprecatedAttributes.set(key, (attributes = { 'schema.coordinate': coordinate, 'client.name': client.name, 'client.version': client.version }));
      this.deprecatedUses.add(1, attributes);
    }
  }

  /** One overridden field of one request, with the subgraph its override label sent it to. */
  readonly recordOverride = (coordinate: string, subgraph: string): void => {
    const key = `${coordinate}\u0000${subgraph}`;
    let attributes = this.overrideAttributes.get(key);
    if (!attributes) this.overrideAttributes.set(key, (attributes = { 'schema.coordinate': coordinate, 'subgraph.name': subgraph }));
    this.overrides.add(1, attributes);
  };

  /** One response that lacks the data of a failed optional subgraph. */
  countDegraded(name: string): void {
    name = this.cappedName(name);
    let attributes = this.degradedAttributes.get(name);
    if (!attributes) this.degradedAttributes.set(name, (attributes = { 'graphql.operation.name': name }));
    this.degraded.add(1, attributes);
  }

  countSharedExecution(name: string): void {
    name = this.cappedName(name);
    let attributes = this.sharedExecutionAttributes.get(name);
    if (!attributes) this.sharedExecutionAttributes.set(name, (attributes = { 'graphql.operation.name': name }));
    this.sharedExecutions.add(1, attributes);
  }

  /** At the end of a request: one count per decision a stage pushed to the context. */
  countDecisions(decisions: readonly Decision[]): void {
    for (const decision of decisions) this.decisions.add(1, this.decisionAttributesOf(decision));
  }

  readonly recordSubgraphFetch: RecordSubgraphFetch = (subgraph, seconds, status, errorType) => {
    let byResult = this.fetchAttributes.get(subgraph);
    if (!byResult) this.fetchAttributes.set(subgraph, (byResult = new Map()));
    const key = errorType ?? String(status);
    let attributes = byResult.get(key);
    if (!attributes) {
      attributes = { 'subgraph.name': subgraph, 'http.request.method': 'POST' };
      if (status !== undefined) attributes['http.response.status_code'] = status;
      if (errorType !== undefined) attributes['error.type'] = errorType;
      byResult.set(key, attributes);
    }
    this.subgraphFetches.record(seconds, attributes);
  };

  /** A fetch answered by an identical one in flight: not a call, so not in http.client.request.duration. */
  countSharedFetch(subgraph: string): void {
    let attributes = this.sharedAttributes.get(subgraph);
    if (!attributes) this.sharedAttributes.set(subgraph, (attributes = { 'subgraph.name': subgraph }));
    this.sharedFetches.add(1, attributes);
  }

  readonly recordCostEstimate: RecordCostEstimate = (estimated, result) => {
    let attributes = this.costAttributes.get(result);
    if (!attributes) this.costAttributes.set(result, (attributes = { 'cost.result': result }));
    this.costs.record(estimated, attributes);
  };

  /** apollo.router.cache.{hit,miss}.time and .size, Apollo Router's names for its query-planner cache. */
  queryPlanCache(size: () => number): QueryPlanCacheObserver {
    const attributes: Attributes = { kind: 'query planner', storage: 'memory' };
    const hits = this.meter.createHistogram('apollo.router.cache.hit.time', { unit: 's', description: 'Query-plan cache lookups that found a plan.', advice: { explicitBucketBoundaries: DURATION_BUCKETS_S } });
    const misses = this.meter.createHistogram('apollo.router.cache.miss.time', { unit: 's', description: 'Query-plan cache lookups that found none (the operation was planned).', advice: { explicitBucketBoundaries: DURATION_BUCKETS_S } });
    this.meter
      .createObservableGauge('apollo.router.cache.size', { unit: '{entry}', description: 'Query plans held by the active supergraph\'s cache.' })
      .addCallback((result) => result.observe(size(), attributes));
    return { hit: (seconds) => hits.record(seconds, attributes), miss: (seconds) => misses.record(seconds, attributes) };
  }

  /** switchyard.supergraph.info{hash} = 1 for the supergraph new requests are served on. */
  observeSupergraph(hash: () => string): void {
    this.meter
      .createObservableGauge('switchyard.supergraph.info', { description: 'The active supergraph: 1, labelled with its SHA-256.' })
      .addCallback((result) => result.observe(1, { hash: hash() }));
  }

  private operationAttributesOf(name: string, type: string, outcome: Outcome, client: ClientIdentity): Attributes {
    name = this.cappedName(name);
    client = this.cappedClient(client);
    const key = `${name}\u0000${type}\u0000${outcome}\u0000${client.name}\u0000${client.version}`;
    let attributes = this.operationAttributes.get(key);
    if (!attributes) {
      attributes = { 'graphql.operation.name': name, 'graphql.operation.type': type, outcome, 'client.name': client.name, 'client.version': client.version };
      this.operationAttributes.set(key, attributes);
    }
    return attributes;
  }

  /** The client as labels: one of the first CLIENT_LIMIT name and version pairs seen, else `other`. */
  private cappedClient(client: ClientIdentity): ClientIdentity {
    const key = `${client.name}\u0000${client.version}`;
    if (this.clients.has(key)) return client;
    if (this.clients.size >= CLIENT_LIMIT) return OTHER_CLIENT;
    this.clients.add(key);
    return client;
  }

  /** The name as a label: one of the first OPERATION_NAME_LIMIT names seen, else `other`. */
  private cappedName(name: string): string {
    // `other` itself is always admitted, as the one series beyond each limit.
    if (this.operationNames.has(name)) return name;
    if (name.length > OPERATION_NAME_MAX_LENGTH || this.operationNames.size >= OPERATION_NAME_LIMIT) return OTHER;
    this.operationNames.add(name);
    return name;
  }

  private decisionAttributesOf(decision: Decision): Attributes {
    const key = `${decision.stage}|${decision.code}|${decision.enforced}`;
    let attributes = this.decisionAttributes.get(key);
    if (!attributes) {
      attributes = { stage: decision.stage, code: decision.code, reason: reasonOf(decision), enforced: decision.enforced };
      this.decisionAttributes.set(key, attributes);
    }
    return attributes;
  }
}

/** The refusal reasons the dashboard groups by; codes come from our own stages, so they are few. */
function reasonOf({ stage, code }: Decision): string {
  if (stage === 'identity') return 'authentication';
  if (stage === 'authorization') return 'authorization';
  if (code.startsWith('COST_')) return 'cost';
  if (code.startsWith('RATE_LIMIT')) return 'rate';
  if (code.startsWith('PERSISTED_QUERY')) return 'persisted_query';
  if (stage === 'admission') return 'limit';
  return 'other';
}
