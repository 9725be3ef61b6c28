import type { RequestContext } from '../../core/context';
import type { GatewayPlugin, GatewayResponse, SubgraphRequest } from '../../core/plugin';
import { cacheControlValue, mergedCachePolicy } from './cache-control';
import type { CacheControlConfig, ContextValue, HeaderRules, HeadersConfig, RequestHeaderRule, ResponseHeaderRule } from './config';
import { connectionListed, isReservedRequestHeader, isReservedResponseHeader } from './reserved';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A rule with its `matching` pattern compiled once. */
type Compiled<R> = R & { pattern?: RegExp };

/**
 * Header rules, both ways (Router's `headers` shape), and the merged Cache-Control:
 * - request: each subgraph request gets what `all`'s rules and then its own subgraph's rules say, in
 *   order: a client header propagated (renamed, or a default), a value inserted, a header removed. A
 *   reserved header (hop-by-hop, framing, the signed identity, any the client's Connection lists) is never
 *   copied, set or removed, whatever a pattern matches; named ones are refused at start already.
 * - response: a subgraph answer's headers reach the client only through a `propagate` rule; when several
 *   answers carry one, `algorithm` picks the first, the last, or all joined; every Set-Cookie is kept.
 * - cache_control.enabled: Cache-Control merged restrictively over the subgraph answers (cache-control.ts).
 */
export function useHeaders(config: HeadersConfig, cacheControl: CacheControlConfig): GatewayPlugin | undefined {
  const hasRules = (rules: HeaderRules) => rules.request.length + rules.response.length > 0;
  if (!cacheControl.enabled && !hasRules(config.all) && !Object.values(config.subgraphs).some(hasRules)) return undefined;
  const compile = <R extends RequestHeaderRule | ResponseHeaderRule>(rule: R): Compiled<R> => {
    const matching = (Object.values(rule)[0] as { matching?: string }).matching;
    return matching === undefined ? rule : { ...rule, pattern: new RegExp(matching, 'i') };
  };
  const rulesOf = (subgraph: string) => {
    const own = Object.hasOwn(config.subgraphs, subgraph) ? config.subgraphs[subgraph]! : { request: [], response: [] };
    return { request: [...config.all.request, ...own.request].map(compile), response: [...config.all.response, ...own.response].map(compile) };
  };
  const rulesBySubgraph = new Map<string, ReturnType<typeof rulesOf>>();
  const rulesFor = (subgraph: string) => {
    let rules = rulesBySubgraph.get(subgraph);
    if (!rules) rulesBySubgraph.set(subgraph, (rules = rulesOf(subgraph)));
    return rules;
  };

  return {
    name: 'headers',
    stage: 'transport',
    onSubgraphRequest(context, request) {
      // The gateway's own requests (readiness probes) carry no client's headers.
      if (!context) return;
      for (const rule of rulesFor(request.subgraph).request) applyRequestRule(rule, context, request);
    },
    onResponse(context, response) {
      propagateResponseHeaders(context, response, (subgraph) => rulesFor(subgraph).response);
      if (cacheControl.enabled) response.headers['cache-control'] = cacheControlValue(mergedCachePolicy(context, response));
    },
  };
}

/** The client's headers a rule may copy: none that is reserved or that the client's Connection header lists. */
function copyable(headers: Headers): Map<string, string> {
  const listed = connectionListed(headers.connection);
  const copied = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || isReservedRequestHeader(name) || listed.has(name)) continue;
    copied.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return copied;
}

function applyRequestRule(rule: Compiled<RequestHeaderRule>, context: RequestContext, request: SubgraphRequest): void {
  // Checked again here, not only at start: a reserved header is never a rule's, whatever the config said.
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && !isReservedRequestHeader(name)) request.headers[name] = value;
  };
  if ('propagate' in rule) {
    const { named, rename, default: fallback } = rule.propagate;
    const client = copyable(context.http.headers);
    if (named !== undefined) set(rename ?? named, client.get(named) ?? fallback);
    else for (const [name, value] of client) if (rule.pattern!.test(name)) set(name, value);
  } else if ('insert' in rule) {
    const { name, value, from_context } = rule.insert;
    set(name, value ?? contextValue(context, from_context!));
  } else {
    const { named } = rule.remove;
    for (const name of Object.keys(request.headers)) {
      if (isReservedRequestHeader(name)) continue;
      if (named !== undefined ? name === named : rule.pattern!.test(name)) delete request.headers[name];
    }
  }
}

function contextValue(context: RequestContext, name: ContextValue): string | undefined {
  switch (name) {
    case 'client_name':
      return context.client.name;
    case 'client_version':
      return context.client.version;
    case 'operation_name':
      return context.operation?.operationName;
    case 'operation_type':
      return context.operation?.type;
  }
}

/** Values gathered per client header, in the order the answers came, with the algorithm that picks among them. */
interface Gathered {
  algorithm: 'first' | 'last' | 'append';
  values: string[];
}

function propagateResponseHeaders(context: RequestContext, response: GatewayResponse, rulesFor: (subgraph: string) => Compiled<ResponseHeaderRule>[]): void {
  const gathered = new Map<string, Gathered>();
  const defaults = new Map<string, string>();
  const add = (name: string, algorithm: Gathered['algorithm'], value: string | string[]) => {
    if (isReservedResponseHeader(name)) return;
    let entry = gathered.get(name);
    if (!entry) gathered.set(name, (entry = { algorithm, values: [] }));
    entry.values.push(...(Array.isArray(value) ? value : [value]));
  };
  for (const fetch of context.fetches) {
    if (!fetch.headers) continue;
    const listed = connectionListed(fetch.headers.connection);
    // One answer gives each client header once, by the first rule that names or matches it.
    const taken = new Set<string>();
    const take = (name: string, algorithm: Gathered['algorithm'], value: string | string[]) => {
      if (taken.has(name)) return;
      taken.add(name);
      add(name, algorithm, value);
    };
    for (const rule of rulesFor(fetch.subgraph)) {
      const { named, rename, default: fallback, algorithm } = rule.propagate;
      if (named !== undefined) {
        const value = listed.has(named) ? undefined : fetch.headers[named];
        if (value !== undefined) take(rename ?? named, algorithm, value);
        else if (fallback !== undefined) defaults.set(rename ?? named, fallback);
        continue;
      }
      for (const [name, value] of Object.entries(fetch.headers)) {
        if (value !== undefined && !listed.has(name) && rule.pattern!.test(name)) take(name, algorithm, value);
      }
    }
  }
  for (const [name, value] of defaults) if (!gathered.has(name) && !isReservedResponseHeader(name)) response.headers[name] = value;
  for (const [name, { algorithm, values }] of gathered) {
    // Cookies cannot be joined into one value: each is sent as it came.
    if (name === 'set-cookie') response.headers[name] = values;
    else response.headers[name] = algorithm === 'append' ? values.join(', ') : algorithm === 'first' ? values[0]! : values.at(-1)!;
  }
}

/**
 * The client's values the request rules send on to some subgraph (propagated headers, inserted client
 * names): an answer may depend on them, so the response cache keys by them.
 */
export function clientValuesSent(config: HeadersConfig): (context: RequestContext) => readonly unknown[] {
  const rules = [config.all, ...Object.values(config.subgraphs)].flatMap((r) => r.request);
  const named = new Set<string>();
  const patterns: RegExp[] = [];
  const fromContext = new Set<ContextValue>();
  for (const rule of rules) {
    if ('propagate' in rule) {
      if (rule.propagate.named !== undefined) named.add(rule.propagate.named);
      else patterns.push(new RegExp(rule.propagate.matching!, 'i'));
    } else if ('insert' in rule && rule.insert.from_context) fromContext.add(rule.insert.from_context);
  }
  if (named.size + patterns.length + fromContext.size === 0) return () => [];
  return (context) => {
    const sent = [...copyable(context.http.headers)].filter(([name]) => named.has(name) || patterns.some((p) => p.test(name))).sort(([a], [b]) => (a < b ? -1 : 1));
    return [sent, [...fromContext].sort().map((name) => contextValue(context, name) ?? null)];
  };
}
