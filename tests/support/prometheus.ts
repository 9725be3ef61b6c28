/** One series of a scrape: its labels and value (for a histogram, one of its _bucket, _count or _sum lines). */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
}

/** One service's /metrics, parsed and checked. */
export interface Scrape {
  families: Map<string, MetricFamily>;
  /** The sum over every series of a counter or gauge whose labels include `labels`; 0 when none has. */
  value(name: string, labels?: Record<string, string>): number;
  /** The same for a histogram's observation count and sum. */
  histogram(name: string, labels?: Record<string, string>): { count: number; sum: number };
}

/**
 * GETs a service's /metrics and parses it as the Prometheus text format (0.0.4). Written here because
 * the npm parser tried (parse-prometheus-text-format) drops a histogram's labels, count and sum when
 * _count and _sum come before the buckets, as the OpenTelemetry exporter writes them. Every line must
 * be a comment or a sample of a family declared by # TYPE, with a numeric value; every histogram's
 * buckets must be cumulative and end at +Inf with its count.
 */
export async function scrapeMetrics(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`${baseUrl}/metrics answered ${res.status}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain')) throw new Error(`${baseUrl}/metrics is ${res.headers.get('content-type')}`);
  const families = parsePrometheusText(await res.text());
  const matching = (name: string, labels: Record<string, string>) =>
    (families.get(name)?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
  const total = (samples: Sample[]) => samples.reduce((sum, s) => sum + s.value, 0);
  return {
    families,
    value: (name, labels = {}) => total(matching(name, labels)),
    histogram(name, labels = {}) {
      const family = families.get(name);
      const of = (suffix: string) =>
        total((family?.samples ?? []).filter((s) => s.name === `${name}${suffix}` && Object.entries(labels).every(([key, value]) => s.labels[key] === value)));
      return { count: of('_count'), sum: of('_sum') };
    },
  };
}

const TYPE_LINE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
const HISTOGRAM_SUFFIX = /_(bucket|count|sum)$/;

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const declared = TYPE_LINE.exec(line);
    if (declared) {
      if (families.has(declared[1]!)) throw new Error(`line ${i + 1}: ${declared[1]} declared twice`);
      families.set(declared[1]!, { name: declared[1]!, type: declared[2] as MetricFamily['type'], samples: [] });
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`line ${i + 1} is not a sample: ${line}`);
    const [, name, labelText = '', valueText] = sample;
    const family = families.get(name!) ?? families.get(name!.replace(HISTOGRAM_SUFFIX, ''));
    if (!family || (family.name !== name && family.type !== 'histogram')) throw new Error(`line ${i + 1}: ${name} has no # TYPE`);
    const value = /^[+-]?Inf$/.test(valueText!) ? (valueText!.startsWith('-') ? -Infinity : Infinity) : Number(valueText);
    if (valueText !== 'NaN' && Number.isNaN(value)) throw new Error(`line ${i + 1}: ${valueText} is not a number`);
    family.samples.push({ name: name!, labels: parseLabels(labelText, i + 1), value });
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const label = LABEL.exec(text);
    if (!label) throw new Error(`line ${line}: malformed labels {${text}}`);
    labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) entry.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    if (sample.name.endsWith('_count')) entry.count = sample.value;
  }
  for (const [key, { buckets, count }] of series) {
    buckets.sort((a, b) => a[0] - b[0]);
    if (buckets.some(([, n], i) => i > 0 && n < buckets[i - 1]![1])) throw new Error(`${family.name}${key}: buckets are not cumulative`);
    if (buckets.at(-1)?.[0] !== Infinity || buckets.at(-1)![1] !== count) throw new Error(`${family.name}${key}: the +Inf bucket is not the count`);
  }
}
