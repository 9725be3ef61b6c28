/** The parts of a V8 CPU profile (`node --cpu-prof`, a .cpuprofile file) that self time is read from. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  /** Microseconds, V8's clock. */
  startTime: number;
  endTime: number;
  /** The node each sample was taken in. */
  samples: number[];
  /** Microseconds since the previous sample (the first: since startTime). */
  timeDeltas: number[];
}

/** Where self time goes, in the order printed; "idle" is time the process waited and is left out of percentages. */
export const CATEGORIES = [
  'GC',
  '@apollo/gateway executor',
  'resultShaping',
  '@apollo planner, federation-internals',
  'graphql-js',
  'JSON',
  'undici',
  'node http',
  'fastify',
  'pino',
  'JWT, crypto',
  'OpenTelemetry',
  'our gateway/src, packages',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number] | 'idle';

const NODE_HTTP = /^node:(_http_|http$|https$|net$|stream$|_stream_|internal\/(http|net|stream_base_commons|streams\/|js_stream_socket|dns))/;

/**
 * The category of a function, by the file it comes from (node_modules package, node: module, our
 * workspaces, compiled or source) or, for V8's own entries and builtins without a file, by name.
 */
export function categoryOf({ functionName, url }: { functionName: string; url: string }): Category {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'GC';
  // Natives have no file. V8 seldom gives JSON.parse and JSON.stringify a frame of their own ("parse",
  // "stringify"): mostly their time is the self time of the function calling them (see topFunctions).
  if (!url) {
    if (/^(parse|stringify|JsonParse|JsonStringify)$/.test(functionName)) return 'JSON';
    // Socket writes of node's HTTP server and client.
    if (/^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeAsciiString)$/.test(functionName)) return 'node http';
    return 'other';
  }
  const path = url.replace(/^file:\/\//, '');
  if (path.includes('/node_modules/@apollo/gateway/')) return /\/resultShaping\.js$/.test(path) ? 'resultShaping' : '@apollo/gateway executor';
  if (/\/node_modules\/@apollo\/(query-planner|federation-internals|query-graphs)\//.test(path)) return '@apollo planner, federation-internals';
  if (path.includes('/node_modules/graphql/')) return 'graphql-js';
  if (path.includes('/node_modules/undici/') || path.startsWith('node:internal/deps/undici')) return 'undici';
  if (NODE_HTTP.test(path) || /\/node_modules\/(light-my-request|ws)\//.test(path)) return 'node http';
  if (/\/node_modules\/(fastify|@fastify\/[^/]+|find-my-way|avvio|fast-json-stringify|fast-querystring|fastify-plugin)\//.test(path)) return 'fastify';
  if (/\/node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream)\//.test(path)) return 'pino';
  if (/\/node_modules\/jose\//.test(path) || /^node:(crypto|internal\/crypto)/.test(path)) return 'JWT, crypto';
  if (path.includes('/node_modules/@opentelemetry/')) return 'OpenTelemetry';
  // Our workspaces, as the gateway runs them (dist) or as tsx does (src); node_modules/@switchyard links to them.
  if (!path.includes('/node_modules/') && /\/(gateway|packages\/[^/]+)\/(dist|src)\//.test(path)) return 'our gateway/src, packages';
  return 'other';
}

export interface SelfTime {
  category: Category;
  ms: number;
}

/** Each sample from `fromMicros` (V8's clock) on, with its node and its weight: the time to the next sample. */
function weightedSamples(profile: CpuProfile, fromMicros: number): { node: number; us: number }[] {
  let at = profile.startTime;
  const times = profile.timeDeltas.map((delta) => (at += delta));
  const weighted: { node: number; us: number }[] = [];
  for (let i = 0; i < profile.samples.length - 1; i++) {
    if (times[i]! >= fromMicros) weighted.push({ node: profile.samples[i]!, us: times[i + 1]! - times[i]! });
  }
  return weighted;
}

/** Self time by category, in milliseconds, over the samples from `fromMicros` on: every category of CATEGORIES, then idle. */
export function selfTimeByCategory(profile: CpuProfile, fromMicros = profile.startTime): SelfTime[] {
  const categoryOfNode = new Map(profile.nodes.map((node) => [node.id, categoryOf(node.callFrame)]));
  const micros = new Map<Category, number>([...CATEGORIES, 'idle'].map((c) => [c as Category, 0]));
  for (const { node, us } of weightedSamples(profile, fromMicros)) {
    const category = categoryOfNode.get(node) ?? 'other';
    micros.set(category, micros.get(category)! + us);
  }
  return [...micros].map(([category, us]) => ({ category, ms: us / 1000 }));
}

/** The functions with the most self time over the same samples (idle aside), for what the categories do not say. */
export function topFunctions(profile: CpuProfile, count: number, fromMicros = profile.startTime): { name: string; category: Category; ms: number }[] {
  const frameOfNode = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const micros = new Map<string, { name: string; category: Category; us: number }>();
  for (const { node, us } of weightedSamples(profile, fromMicros)) {
    const frame = frameOfNode.get(node)!;
    const category = categoryOf(frame);
    if (category === 'idle') continue;
    const file = frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(gateway|packages)\//, '$1/');
    const name = [frame.functionName || '(anonymous)', file].filter(Boolean).join(' ');
    const entry = micros.get(name) ?? { name, category, us: 0 };
    entry.us += us;
    micros.set(name, entry);
  }
  return [...micros.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map(({ name, category, us }) => ({ name, category, ms: us / 1000 }));
}
