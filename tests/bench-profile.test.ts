/**
 * npm run bench:profile's grouping of a CPU profile's self time (bench/profile-categories.ts): each function
 * lands in the category its file (or, for V8's entries, its name) says, and each sample weighs the time to
 * the next one.
 */
import { categoryOf, selfTimeByCategory, topFunctions, type CpuProfile } from '../bench/profile-categories';

const modules = 'file:///work/switchyard/node_modules';

describe('the profile categories', () => {
  it.each([
    ['(garbage collector)', '', 'GC'],
    ['(idle)', '', 'idle'],
    ['(program)', '', 'other'],
    ['parse', '', 'JSON'],
    ['stringify', '', 'JSON'],
    ['writev', '', 'node http'],
    ['runMicrotasks', '', 'other'],
    ['executeQueryPlan', `${modules}/@apollo/gateway/dist/executeQueryPlan.js`, '@apollo/gateway executor'],
    ['applySelectionSet', `${modules}/@apollo/gateway/dist/resultShaping.js`, 'resultShaping'],
    ['buildQueryPlan', `${modules}/@apollo/query-planner/dist/buildPlan.js`, '@apollo planner, federation-internals'],
    ['SelectionSet', `${modules}/@apollo/federation-internals/dist/operations.js`, '@apollo planner, federation-internals'],
    ['visit', `${modules}/graphql/language/visitor.js`, 'graphql-js'],
    ['request', `${modules}/undici/lib/api/api-request.js`, 'undici'],
    ['fetch', 'node:internal/deps/undici/undici', 'undici'],
    ['parserOnHeadersComplete', 'node:_http_common', 'node http'],
    ['onStreamRead', 'node:internal/stream_base_commons', 'node http'],
    ['writeGeneric', 'node:internal/stream_base_commons', 'node http'],
    ['runPreParsingHooks', `${modules}/fastify/lib/route.js`, 'fastify'],
    ['find', `${modules}/find-my-way/index.js`, 'fastify'],
    ['asJson', `${modules}/pino/lib/tools.js`, 'pino'],
    ['jwtVerify', `${modules}/jose/dist/node/cjs/jwt/verify.js`, 'JWT, crypto'],
    ['verify', 'node:internal/crypto/sig', 'JWT, crypto'],
    ['record', `${modules}/@opentelemetry/sdk-metrics/build/src/state/DeltaMetricProcessor.js`, 'OpenTelemetry'],
    ['runPipeline', 'file:///work/switchyard/gateway/dist/core/pipeline.js', 'our gateway/src, packages'],
    ['runPipeline', 'file:///work/switchyard/gateway/src/core/pipeline.ts', 'our gateway/src, packages'],
    ['signPrincipal', 'file:///work/switchyard/packages/service-kit/dist/identity.js', 'our gateway/src, packages'],
    ['emit', 'node:events', 'other'],
    ['parse', `${modules}/yaml/dist/index.js`, 'other'],
  ])('%s in %s is %s', (functionName, url, category) => {
    expect(categoryOf({ functionName, url })).toBe(category);
  });

  // Five samples 1 ms apart from t=1000 µs: GC, executor, executor, idle, then a last one with no successor.
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(garbage collector)', url: '' } },
      { id: 2, callFrame: { functionName: 'executeQueryPlan', url: `${modules}/@apollo/gateway/dist/executeQueryPlan.js` } },
      { id: 3, callFrame: { functionName: '(idle)', url: '' } },
    ],
    startTime: 0,
    endTime: 6000,
    samples: [1, 2, 2, 3, 1],
    timeDeltas: [1000, 1000, 1000, 1000, 1000],
  };

  it('weighs each sample by the time to the next one and counts idle apart', () => {
    const times = Object.fromEntries(selfTimeByCategory(profile).map((t) => [t.category, t.ms]));
    expect(times).toMatchObject({ GC: 1, '@apollo/gateway executor': 2, idle: 1, 'graphql-js': 0, other: 0 });
  });

  it('leaves out the samples before the load began', () => {
    const times = Object.fromEntries(selfTimeByCategory(profile, 2000).map((t) => [t.category, t.ms]));
    expect(times).toMatchObject({ GC: 0, '@apollo/gateway executor': 2, idle: 1 });
  });

  it('lists the functions with the most self time, idle left out', () => {
    expect(topFunctions(profile, 5)).toEqual([
      { name: 'executeQueryPlan @apollo/gateway/dist/executeQueryPlan.js', category: '@apollo/gateway executor', ms: 2 },
      { name: '(garbage collector)', category: 'GC', ms: 1 },
    ]);
  });
});
