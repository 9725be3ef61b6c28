import { trace } from '@opentelemetry/api';
import { maskUnexpectedErrors, withSpan, type Logger } from '@switchyard/service-kit';
import { GraphQLError, validate, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema, type ParseOptions } from 'graphql';
import type { Execution } from '../execution/gateway';
import { InflightExecutions } from '../execution/inflight-executions';
import type { PlannedOperation } from '../execution/supergraph-gateway';
import type { GraphQLParams, RequestContext, ResolvedOperation, Stage } from './context';
import { changedQueryHash, OperationReader } from './operation';
import { Refusal, type CompleteResult, type GatewayPlugin, type GatewayResponse, type SendSubgraphFetch, type SubgraphAnswer, type SubgraphFetch, type SubgraphRequest, type SubgraphResponse } from './plugin';

export interface PipelineOptions {
  plugins: readonly GatewayPlugin[];
  execution: Execution;
  logger: Logger;
  /** Answer introspection queries; off also hides "Did you mean" suggestions. */
  introspection: boolean;
  /** Identical queries of one caller in flight at once share one execution (traffic_shaping.router.dedupe). */
  dedupe?: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';

/**
 * The request path. The core owns the order and calls the plugins' hooks (see GatewayPlugin): it reads
 * the HTTP request once, parses and validates the document once, coerces the variables once, and every
 * plugin and the executor see those same values. Refusals, spans and decisions are recorded here.
 */
export class Pipeline {
  private readonly reader: OperationReader;
  private readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  private readonly hooks: { [K in HookName]: GatewayPlugin[] };
  private readonly validChanges = new WeakMap<GraphQLSchema, WeakSet<DocumentNode>>();
  private readonly inflight?: InflightExecutions;

  constructor(private readonly options: PipelineOptions) {
    const names = new Set<string>();
    for (const plugin of options.plugins) {
      if (names.has(plugin.name)) throw new Error(`two plugins are named ${plugin.name}`);
      names.add(plugin.name);
    }
    const parseOptions: ParseOptions = Object.assign({}, ...options.plugins.map((p) => p.parseOptions ?? {}));
    this.reader = new OperationReader({
      parseOptions,
      rules: options.plugins.flatMap((p) => p.validationRules ?? []),
      explainParseFailure: (error, source) => {
        for (const plugin of options.plugins) {
          const explained = plugin.explainParseFailure?.(error, source);
          if (explained) return explained;
        }
        return undefined;
      },
      introspection: options.introspection,
    });
    this.formatError = maskUnexpectedErrors(options.logger);
    if (options.dedupe) this.inflight = new InflightExecutions();
    this.hooks = Object.fromEntries(HOOKS.map((hook) => [hook, options.plugins.filter((p) => p[hook])])) as Pipeline['hooks'];
  }

  /** The HTTP phase, before the body is read as GraphQL: identity, CSRF, the request-count limit. */
  async receive(context: RequestContext): Promise<GatewayResponse | undefined> {
    try {
      for (const plugin of this.hooks.onRequest) await this.stage(context, plugin, () => plugin.onRequest!(context));
      return undefined;
    } catch (err) {
      return this.respond(context, this.refused(context, err));
    }
  }

  /** Everything after the HTTP request is read: the answer to send, never a throw. */
  async handle(context: RequestContext, read: () => GraphQLParams): Promise<GatewayResponse> {
    let response: GatewayResponse;
    try {
      response = await this.run(context, read);
    } catch (err) {
      response = this.refused(context, err);
    }
    return this.respond(context, response);
  }

  /** After the answer is sent, whatever it was. */
  end(context: RequestContext, response: GatewayResponse): void {
    for (const plugin of this.hooks.onEnd) {
      try {
        plugin.onEnd!(context, response);
      } catch (err) {
        context.logger.error({ plugin: plugin.name, err }, 'onEnd failed');
      }
    }
  }

  /** For the transport: a client's fetch through every plugin that wraps fetches, the first listed outermost. */
  subgraphFetch(context: RequestContext, fetch: SubgraphFetch, send: SendSubgraphFetch): Promise<SubgraphAnswer> {
    const wrapped = this.hooks.aroundSubgraphFetch.reduceRight<SendSubgraphFetch>((next, plugin) => (inner) => plugin.aroundSubgraphFetch!(context, inner, next), send);
    return wrapped(fetch);
  }

  /** For the transport: every plugin's say on one subgraph fetch. */
  subgraphRequest(context: RequestContext | undefined, request: SubgraphRequest): void {
    for (const plugin of this.hooks.onSubgraphRequest) plugin.onSubgraphRequest!(context, request);
  }

  subgraphResponse(context: RequestContext | undefined, response: SubgraphResponse): void {
    context?.fetches.push(response);
    for (const plugin of this.hooks.onSubgraphResponse) plugin.onSubgraphResponse!(context, response);
  }

  private async run(context: RequestContext, read: () => GraphQLParams): Promise<GatewayResponse> {
    let params = read();
    for (const plugin of this.hooks.onParams) params = (await this.stage(context, plugin, () => plugin.onParams!(context, params))) ?? params;
    context.params = params;

    const operation = this.readOperation(context, params);
    context.operation = operation;
    for (const plugin of this.hooks.onOperation) await this.stage(context, plugin, () => plugin.onOperation!(context, operation));

    let document = operation.document;
    const changes: [string, string][] = [];
    const completions: CompleteResult[] = [];
    for (const plugin of this.hooks.beforePlanning) {
      const change = await this.stage(context, plugin, () => plugin.beforePlanning!(context, { document, original: operation }));
      if (!change) continue;
      this.checkChange(plugin, operation.served.apiSchema, change.document);
      document = change.document;
      changes.push([plugin.name, change.cacheKey]);
      if (change.completeResult) completions.unshift(change.completeResult);
    }
    const queryHash = changes.length > 0 ? changedQueryHash(operation.queryHash, changes) : operation.queryHash;
    let result: ExecutionResult | undefined;
    for (const plugin of this.hooks.beforeExecution) {
      result = (await this.stage(context, plugin, () => plugin.beforeExecution!(context, { operation, document, queryHash }))) ?? undefined;
      if (result) {
        context.answeredBy = 'plugin';
        break;
      }
    }
    if (!result) {
      // InflightExecutions makes it shared_execution when an identical execution was already in flight.
      context.answeredBy = 'execution';
      const planned: PlannedOperation = { operation, document, source: operation.source, queryHash };
      const gateway = this.options.execution.gatewayFor(context.contract);
      result = this.inflight ? await this.inflight.execute(context, planned, (shared) => gateway.execute(shared, planned)) : await gateway.execute(context, planned);
    }
    for (const complete of completions) complete(result);
    trace.getActiveSpan()?.setAttribute('switchyard.answered_by', context.answeredBy!);
    return this.answer(context, result);
  }

  /** The document's own refusals (a limit a plugin's validation rule found) are that plugin's decisions. */
  private readOperation(context: RequestContext, params: GraphQLParams): ResolvedOperation {
    try {
      // A contract's own API schema: what it leaves out fails validation as if it did not exist.
      return this.reader.read(this.options.execution.gatewayFor(context.contract).current(), params, context.http.method);
    } catch (err) {
      if (err instanceof Refusal) {
        for (const error of err.options.errors ?? []) {
          const { code, http: _http, ...details } = error.extensions;
          if (typeof code === 'string' && !CORE_CODES.has(code)) this.decide(context, 'admission', code, error.message, details);
        }
      }
      throw err;
    }
  }

  /**
   * A changed document must still be valid: checked here rather than left to the planner so that the
   * error names the plugin that broke it. Once per document, since plugins cache their changes.
   */
  private checkChange(plugin: GatewayPlugin, schema: GraphQLSchema, document: DocumentNode): void {
    let checked = this.validChanges.get(schema);
    if (!checked) this.validChanges.set(schema, (checked = new WeakSet()));
    if (checked.has(document)) return;
    const [invalid] = validate(schema, document);
    if (invalid) throw new Error(`plugin ${plugin.name} produced an invalid operation: ${invalid.message}`);
    checked.add(document);
  }

  /** Runs one plugin hook in its stage's span; a Refusal becomes an enforced decision of that stage. */
  private async stage<T>(context: RequestContext, plugin: GatewayPlugin, hook: () => T | Promise<T>): Promise<T> {
    try {
      if (!SPANNED_STAGES.has(plugin.stage)) return await hook();
      return await withSpan(plugin.stage === plugin.name ? plugin.stage : `${plugin.stage} ${plugin.name}`, { 'switchyard.stage': plugin.stage }, hook);
    } catch (err) {
      if (err instanceof Refusal) this.decide(context, plugin.stage, err.code, err.message, err.options.extensions);
      throw err;
    }
  }

  /** One enforced decision per refusal, wherever it was thrown. */
  private decide(context: RequestContext, stage: Stage, code: string, message: string, details: Record<string, unknown> | undefined): void {
    context.decisions.push({ stage, code, enforced: true, message, details });
  }

  private answer(context: RequestContext, result: ExecutionResult): GatewayResponse {
    const errors = result.errors?.map((error) => this.format(error));
    const hasData = result.data !== undefined && result.data !== null;
    const internal = !hasData && errors?.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR');
    return {
      status: internal ? 500 : 200,
      headers: { 'content-type': contentTypeFor(context) },
      body: { ...(result.data !== undefined && { data: result.data }), ...(errors && { errors }), ...(result.extensions && { extensions: { ...result.extensions } }) },
    };
  }

  private refused(context: RequestContext, err: unknown): GatewayResponse {
    if (!(err instanceof Refusal)) {
      context.logger.error({ err }, 'request failed');
      return { status: 500, headers: { 'content-type': JSON_TYPE }, body: { errors: [{ message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] } };
    }
    const errors = err.options.errors?.map((e) => this.format(e)) ?? [{ message: err.message, extensions: { code: err.code, ...err.options.extensions } }];
    return { status: err.status, headers: { 'content-type': contentTypeFor(context), ...err.options.headers }, body: { errors } };
  }

  private format(error: GraphQLError | Error): GraphQLFormattedError {
    const formatted = error instanceof GraphQLError ? error.toJSON() : { message: error.message };
    const masked = this.formatError(formatted, error);
    if (!masked.extensions?.http) return masked;
    const { http: _http, ...extensions } = masked.extensions;
    return { ...masked, extensions };
  }

  private async respond(context: RequestContext, response: GatewayResponse): Promise<GatewayResponse> {
    Object.assign(response.headers, context.responseHeaders);
    for (const plugin of this.hooks.onResponse) {
      try {
        await plugin.onResponse!(context, response);
      } catch (err) {
        // A refusal after the fact (a rate limit charged at the end) replaces the answer; so does a bug, masked.
        if (err instanceof Refusal) this.decide(context, plugin.stage, err.code, err.message, err.options.extensions);
        const refusal = this.refused(context, err);
        response.status = refusal.status;
        response.body = refusal.body;
        Object.assign(response.headers, refusal.headers);
      }
    }
    if (Object.keys(context.responseExtensions).length > 0) response.body.extensions = { ...response.body.extensions, ...context.responseExtensions };
    return response;
  }
}

/** The codes of the core's own refusals: the request is malformed, not refused by a policy. */
const CORE_CODES: ReadonlySet<string> = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE', 'METHOD_NOT_ALLOWED']);

/** Stages that decide about a request get a span each, so a trace shows where time went before execution. */
const SPANNED_STAGES: ReadonlySet<Stage> = new Set(['http', 'identity', 'admission', 'authorization']);

const HOOKS = ['onRequest', 'onParams', 'onOperation', 'beforePlanning', 'beforeExecution', 'aroundSubgraphFetch', 'onSubgraphRequest', 'onSubgraphResponse', 'onResponse', 'onEnd'] as const;
type HookName = (typeof HOOKS)[number];

/**
 * application/graphql-response+json when the client prefers it (GraphQL over HTTP), else application/json,
 * which every client reads. Quality values decide; a tie goes to application/json.
 */
export function contentTypeFor(context: RequestContext): string {
  const accept = context.http.headers.accept;
  if (typeof accept !== 'string') return JSON_TYPE;
  let json = -1;
  let graphql = -1;
  for (const part of accept.split(',')) {
    const [type, ...parameters] = part.trim().toLowerCase().split(';');
    const q = Number(parameters.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    const quality = Number.isFinite(q) ? q : 0;
    if (type === 'application/graphql-response+json') graphql = Math.max(graphql, quality);
    else if (type === 'application/json' || type === 'application/*' || type === '*/*') json = Math.max(json, quality);
  }
  return graphql > 0 && graphql > json ? GRAPHQL_RESPONSE_TYPE : JSON_TYPE;
}
