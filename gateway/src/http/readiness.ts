import type { ReadinessReport } from '@switchyard/service-kit';

export type Readiness = () => Promise<ReadinessReport>;

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
  supergraph: () => { loaded: boolean } & Record<string, unknown>;
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
