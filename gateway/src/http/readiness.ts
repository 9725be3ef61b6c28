import type { ReadinessReport } from '@switchyard/service-kit';
import type { SupergraphStatus } from '../execution/supergraph-manager';

/** The full report: what the health_check.listen address serves. */
export interface GatewayReadinessReport extends ReadinessReport {
  body: {
    status: 'ready' | 'not ready';
    supergraph: { loaded: boolean } & Partial<SupergraphStatus>;
    subgraphs: Record<string, SubgraphHealth>;
    required_subgraphs_not_up?: string[];
    /** What plugins report (identity's key sources, the rate limiter's store), by plugin. */
    [plugin: string]: unknown;
  };
}

export type Readiness = () => Promise<GatewayReadinessReport>;

export interface SubgraphProbe {
  name: string;
  probe(): Promise<void>;
}

type SubgraphHealth = { status: 'unknown' } | { status: 'up'; checkedAt: string } | { status: 'down'; checkedAt: string; error: string };

export interface SubgraphHealthWatch {
  snapshot(): Record<string, SubgraphHealth>;
  stop(): void;
}

/**
 * Probes every subgraph in the background, all at once every intervalMs, so /readyz answers at once from
 * the last results: the kubelet's probe timeout is shorter than a hung subgraph takes to time out.
 */
export function watchSubgraphHealth(subgraphs: () => SubgraphProbe[], intervalMs: number): SubgraphHealthWatch {
  let health: Record<string, SubgraphHealth> = Object.fromEntries(subgraphs().map((s) => [s.name, { status: 'unknown' }]));
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const round = async () => {
    const results = await Promise.all(
      subgraphs().map(async (s): Promise<[string, SubgraphHealth]> => {
        try {
          await s.probe();
          return [s.name, { status: 'up', checkedAt: new Date().toISOString() }];
        } catch (err) {
          return [s.name, { status: 'down', checkedAt: new Date().toISOString(), error: (err as Error).message }];
        }
      }),
    );
    health = Object.fromEntries(results);
    if (stopped) return;
    timer = setTimeout(round, intervalMs);
    timer.unref();
  };
  void round();
  return {
    snapshot: () => health,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export interface GatewayReadinessSources {
  /** The active supergraph, or why there is none. */
  supergraph: () => GatewayReadinessReport['body']['supergraph'];
  subgraphs: SubgraphHealthWatch;
  /** Subgraphs that must be up for the gateway to be ready (health_check.required_subgraphs). */
  required: string[];
}

/**
 * Ready means a supergraph is loaded (and, through Fastify's 503-on-close, that the process is not
 * draining). A dead subgraph costs only its own fields, so it is reported but does not take the pod out
 * of rotation, unless config says that subgraph is required.
 */
export function gatewayReadiness(sources: GatewayReadinessSources): Readiness {
  return async () => {
    const supergraph = sources.supergraph();
    const subgraphs = sources.subgraphs.snapshot();
    const requiredNotUp = sources.required.filter((name) => subgraphs[name]?.status !== 'up');
    const ready = supergraph.loaded && requiredNotUp.length === 0;
    return {
      ready,
      body: {
        status: ready ? 'ready' : 'not ready',
        supergraph,
        subgraphs,
        ...(requiredNotUp.length ? { required_subgraphs_not_up: requiredNotUp } : {}),
      },
    };
  };
}

/**
 * What the public port's /readyz says: the status and what is up, nothing an attacker could use. File
 * paths, the JWKS and subgraph URLs in error messages, plugin state (a rate limiter's store down, and so
 * open) stay on the health_check.listen address. The supergraph's hash is kept: it names the version
 * served, which clients may compare across replicas, and says nothing about where it came from.
 */
export function publicReadiness(full: Readiness): () => Promise<ReadinessReport> {
  return async () => {
    const { ready, body } = await full();
    return {
      ready,
      body: {
        status: body.status,
        supergraph: { loaded: body.supergraph.loaded, ...(body.supergraph.hash && { hash: body.supergraph.hash }) },
        subgraphs: Object.fromEntries(Object.entries(body.subgraphs).map(([name, health]) => [name, { status: health.status }])),
        ...(body.required_subgraphs_not_up && { required_subgraphs_not_up: body.required_subgraphs_not_up }),
      },
    };
  };
}
