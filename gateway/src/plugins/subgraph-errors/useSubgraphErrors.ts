import type { GraphQLFormattedError } from 'graphql';
import type { RequestContext } from '../../core/context';
import type { GatewayPlugin, GatewayResponse } from '../../core/plugin';
import { trafficSettingsFor, type TrafficShapingConfig } from '../../transport/config';
import type { IncludeSubgraphErrorsConfig } from './config';

/** What a masked subgraph error says instead of its message (Apollo Router's words). */
export const REDACTED = 'Subgraph errors redacted';
/** A masked error keeps its code only when it looks like one; anything else could carry a message. */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Extensions a subgraph's error never brings along, included or not: where its code failed. */
const NEVER_FORWARDED = new Set(['stacktrace', 'exception']);
/** The transport's own errors for a subgraph it got nothing from (they name it in `service`). */
const FAILED_FETCH_CODES: ReadonlySet<string> = new Set(['SUBREQUEST_HTTP_ERROR', 'SUBGRAPH_CIRCUIT_BREAKER_REJECTED']);

/**
 * What the client is told of subgraphs, shaped once the result is known:
 * - errors a subgraph answered with (Apollo Gateway marks them with extensions.serviceName) are masked
 *   unless include_subgraph_errors trusts that subgraph: the code, path and subgraph name stay, the
 *   message goes to the log;
 * - a subgraph that gave no answer (after any retries, or rejected by its circuit breaker) is optional or
 *   critical (traffic_shaping.all|subgraphs.<name>.criticality). Optional: its fields are null, its error
 *   names it, and extensions.degraded lists it. Critical: the operation fails with 502 and one
 *   SUBGRAPH_UNAVAILABLE error naming it: a gateway error (the upstream failed), and not a 503, which a
 *   mesh's default policy would retry.
 */
export function useSubgraphErrors(include: IncludeSubgraphErrorsConfig, trafficShaping: TrafficShapingConfig): GatewayPlugin {
  const included = (subgraph: string) => (Object.hasOwn(include.subgraphs, subgraph) ? include.subgraphs[subgraph]! : include.all);
  const critical = (subgraph: string) => trafficSettingsFor(trafficShaping, subgraph).criticality === 'critical';

  return {
    name: 'subgraph_errors',
    stage: 'execution',
    onResponse(context, response) {
      const errors = response.body.errors as GraphQLFormattedError[] | undefined;
      if (!errors) return;
      const failed = new Map<string, string>();
      response.body.errors = errors.map((error) => {
        const extensions = error.extensions ?? {};
        const subgraph = extensions.serviceName;
        if (typeof subgraph === 'string') return included(subgraph) ? withoutInternals(error) : redacted(context, error, subgraph);
        const code = extensions.code;
        if (typeof code === 'string' && FAILED_FETCH_CODES.has(code) && typeof extensions.service === 'string' && !failed.has(extensions.service)) {
          failed.set(extensions.service, typeof extensions.reason === 'string' ? extensions.reason : 'circuit breaker open');
        }
        return error;
      });
      if (failed.size === 0) return;
      const [down] = [...failed].filter(([subgraph]) => critical(subgraph));
      if (down) fail(context, response, down[0], down[1]);
      else context.responseExtensions.degraded = [...failed.keys()].sort();
    },
  };
}

function redacted(context: RequestContext, error: GraphQLFormattedError, subgraph: string): GraphQLFormattedError {
  const code = error.extensions?.code;
  context.logger.info({ subgraph, code, message: error.message, path: error.path }, 'subgraph error redacted for the client');
  return {
    message: REDACTED,
    ...(error.path && { path: error.path }),
    extensions: { code: typeof code === 'string' && CODE.test(code) ? code : 'DOWNSTREAM_SERVICE_ERROR', service: subgraph },
  };
}

function withoutInternals(error: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = error.extensions;
  if (!extensions || !Object.keys(extensions).some((key) => NEVER_FORWARDED.has(key))) return error;
  return { ...error, extensions: Object.fromEntries(Object.entries(extensions).filter(([key]) => !NEVER_FORWARDED.has(key))) };
}

/** The whole operation fails: what other subgraphs answered would be misleading without this one. */
function fail(context: RequestContext, response: GatewayResponse, subgraph: string, reason: string): void {
  context.logger.warn({ subgraph, reason }, 'a critical subgraph failed: the operation fails');
  context.decisions.push({ stage: 'execution', code: 'SUBGRAPH_UNAVAILABLE', enforced: true, message: `critical subgraph ${subgraph} failed: ${reason}`, details: { subgraph } });
  response.status = 502;
  response.body = {
    errors: [{ message: `Subgraph '${subgraph}' is unavailable (${reason}), and this operation cannot be answered without it.`, extensions: { code: 'SUBGRAPH_UNAVAILABLE', service: subgraph, reason } }],
  };
}
