import { existsSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import puppeteer, { type Browser } from 'puppeteer-core';
import { startTraceStore, type TraceStore } from '@switchyard/dev-tools/trace-store';
import { registerDebugTraces } from '../gateway/src/plugins/tracing/debug-traces';
import { inCI } from './support/servers';

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(
  (p): p is string => !!p && existsSync(p),
);
if (!chromium && !inCI) process.stderr.write('note: no Chromium found (apt-get install chromium): trace page browser test not run\n');
const itWithBrowser = chromium || inCI ? it : it.skip;

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const ms = (n: number) => String(BigInt(1_800_000_000_000 + n) * 1_000_000n);
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** What the OTLP/HTTP JSON exporter posts: a gateway request, its fetch, and the subgraph's SQL statement. */
const EXPORT = {
  resourceSpans: [
    {
      resource: { attributes: [str('service.name', 'gateway')] },
      scopeSpans: [
        {
          spans: [
            { traceId: TRACE, spanId: '00f067aa0ba902b7', name: 'POST', kind: 2, startTimeUnixNano: ms(0), endTimeUnixNano: ms(100), attributes: [str('graphql.operation.name', 'PlaceOrder')] },
            { traceId: TRACE, spanId: '00f067aa0ba902b8', parentSpanId: '00f067aa0ba902b7', name: 'identity', kind: 1, startTimeUnixNano: ms(2), endTimeUnixNano: ms(10), attributes: [] },
            { traceId: TRACE, spanId: '00f067aa0ba902b9', parentSpanId: '00f067aa0ba902b7', name: 'POST', kind: 3, startTimeUnixNano: ms(20), endTimeUnixNano: ms(90), attributes: [str('url.full', 'http://orders/graphql')], status: { code: 2 } },
          ],
        },
      ],
    },
    {
      resource: { attributes: [str('service.name', 'orders')] },
      scopeSpans: [
        {
          spans: [
            { traceId: TRACE, spanId: '10f067aa0ba902b1', parentSpanId: '00f067aa0ba902b9', name: 'INSERT', kind: 3, startTimeUnixNano: ms(40), endTimeUnixNano: ms(60), attributes: [str('db.query.text', 'INSERT INTO orders <script>alert(1)</script>')] },
          ],
        },
      ],
    },
  ],
};

describe('/debug/traces, the development trace page', () => {
  let store: TraceStore;
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    store = await startTraceStore({ port: 0 });
    const res = await fetch(`${store.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(EXPORT) });
    expect(res.status).toBe(200);
    app = Fastify();
    registerDebugTraces(app, store.url);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('the store takes an OTLP/JSON export and the list links its trace, named by its root span and operation', async () => {
    const res = await app.inject({ url: '/debug/traces' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; style-src 'self'");
    expect(res.body).toContain(`<a href="/debug/traces/${TRACE}">POST PlaceOrder</a>`);
    expect(res.body).toContain('gateway, orders');
  });

  it('the store refuses protobuf with a 415 that says to use JSON, and ignores spans without ids', async () => {
    const proto = await fetch(`${store.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: 'x' });
    expect(proto.status).toBe(415);
    const junk = await fetch(`${store.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x"},null,7]}]}]}' });
    expect(junk.status).toBe(200);
    expect((await (await fetch(`${store.url}/traces`)).json()) as unknown[]).toHaveLength(1);
  });

  it('answers a malformed trace id 400 and an unknown one 404, and a store that is down 502', async () => {
    expect((await app.inject({ url: '/debug/traces/not-an-id' })).statusCode).toBe(400);
    expect((await app.inject({ url: `/debug/traces/${'0'.repeat(32)}` })).statusCode).toBe(404);
    const orphan = Fastify();
    registerDebugTraces(orphan, 'http://127.0.0.1:9');
    expect((await orphan.inject({ url: '/debug/traces' })).statusCode).toBe(502);
  });

  it('the text form is the same waterfall npm run trace prints, children indented under parents', async () => {
    const res = await app.inject({ url: `/debug/traces/${TRACE}/text` });
    const lines = res.body.split('\n');
    expect(lines[0]).toBe(`trace ${TRACE}: 4 spans, 100.0 ms`);
    expect(lines.slice(2, 6).map((l) => l.replace(/^.*\| /, ''))).toEqual([
      'POST [gateway]  PlaceOrder',
      '  identity [gateway]',
      '  POST [gateway] ERROR  http://orders/graphql',
      '    INSERT [orders]  INSERT INTO orders <script>alert(1)</script>',
    ]);
  });

  itWithBrowser('renders in Chromium as a waterfall from local assets only: bars placed on the timeline, names escaped', async () => {
    if (!chromium) throw new Error('CI=true but no Chromium is installed (see .ci/run)');
    const browser: Browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const offsite: string[] = [];
      const failures: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith(url)) offsite.push(req.url());
      });
      page.on('pageerror', (err) => failures.push(String(err)));
      page.on('dialog', (dialog) => failures.push(`dialog: ${dialog.message()}`));
      await page.goto(`${url}/debug/traces`, { waitUntil: 'networkidle0' });
      await page.click(`a[href="/debug/traces/${TRACE}"]`);
      await page.waitForSelector('tr[data-span]');
      const rows = await page.$$eval('tr[data-span]', (trs) =>
        trs.map((tr) => {
          const track = tr.querySelector('rect.track')!.getBoundingClientRect();
          const bar = tr.querySelector('rect:not(.track)')!.getBoundingClientRect();
          return {
            name: tr.querySelector('td.name')!.textContent!.trim(),
            depth: Number((tr as HTMLElement).dataset.depth),
            // Where the bar sits on the trace's timeline, in percent of the track, as the browser laid it out.
            from: Math.round(((bar.left - track.left) / track.width) * 100),
            width: Math.round((bar.width / track.width) * 100),
            colour: getComputedStyle(tr.querySelector('rect:not(.track)')!).fill,
          };
        }),
      );
      expect(rows.map(({ name, depth, from, width }) => ({ name, depth, from, width }))).toEqual([
        { name: 'POST', depth: 0, from: 0, width: 100 },
        { name: 'identity', depth: 1, from: 2, width: 8 },
        { name: 'POST', depth: 1, from: 20, width: 70 },
        { name: 'INSERT', depth: 2, from: 40, width: 20 },
      ]);
      // The stylesheet loaded: the failed fetch is red, the two services have different colours.
      expect(rows[2]!.colour).toBe('rgb(210, 60, 60)');
      expect(rows[3]!.colour).not.toBe(rows[1]!.colour);
      // A span's text is shown as text: the statement's <script> is not an element.
      expect(await page.$$eval('tr[data-span] script', (scripts) => scripts.length)).toBe(0);
      expect(await page.$eval('tr[data-span="10f067aa0ba902b1"] td.detail', (td) => td.textContent)).toBe('INSERT INTO orders <script>alert(1)</script>');
      expect(offsite).toEqual([]);
      expect(failures).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
