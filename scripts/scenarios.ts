/**
 * npm run scenarios [-- <name>...]: shows, against the platform `npm start` runs, what the gateway does
 * about authentication, authorization, rate limiting, tracing and the mesh. Each check prints what it
 * does, what it expects, what happened, PASS or FAIL, and how to read it. The scenarios are in scenarios/.
 * Exits 0 when every check passed, 1 when one failed or no platform answers, 2 on a scenario name it does not know.
 */
import { parseArgs } from 'node:util';
import { SCENARIOS } from '../scenarios';
import { Platform } from '../scenarios/scenario';

const USAGE = `Usage: npm run scenarios [-- <scenario>...]
  Runs against npm start's platform (start it first, in another terminal); all scenarios unless named:
${SCENARIOS.map((s) => `    ${s.name.padEnd(15)} ${s.title}`).join('\n')}
  GATEWAY_PORT, ISSUER_PORT, TRACES_PORT: where npm start put them, if not the defaults
`;

const out = (text: string) => process.stdout.write(text);

/** Whether npm start's gateway, issuer and trace store answer; what is missing otherwise. */
async function missingServices(platform: Platform): Promise<string[]> {
  const up = async (url: string) => {
    try {
      return (await fetch(url, { signal: AbortSignal.timeout(3000) })).ok;
    } catch {
      return false;
    }
  };
  const gateway = new URL('/healthz', platform.urls.graphql).href;
  const checks = [
    { what: `the gateway (${gateway})`, ok: await up(gateway) },
    { what: `the development issuer (${platform.urls.issuer}/healthz)`, ok: await up(`${platform.urls.issuer}/healthz`) },
    { what: `the trace store (${platform.urls.traces}/traces)`, ok: await up(`${platform.urls.traces}/traces`) },
  ];
  return checks.filter((c) => !c.ok).map((c) => c.what);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) return out(USAGE), 0;
  const unknown = positionals.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length) {
    process.stderr.write(`no scenario named ${unknown.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  const chosen = positionals.length ? SCENARIOS.filter((s) => positionals.includes(s.name)) : SCENARIOS;

  const platform = new Platform();
  const missing = await missingServices(platform);
  if (missing.length) {
    process.stderr.write(
      `npm run scenarios runs against the platform npm start runs, and nothing answers for ${missing.join(', ')}.\n` +
        'Start it in another terminal (npm start), wait for "ready in ... ms", then run this again.\n',
    );
    return 1;
  }

  out(`Scenarios against ${platform.urls.graphql}\n`);
  const tally = { PASS: 0, FAIL: 0, SKIP: 0 };
  for (const scenario of chosen) {
    out(`\n== ${scenario.name}: ${scenario.title}\n`);
    for (const check of scenario.checks) {
      out(`\n-- ${check.title}\n   does:      ${check.does}\n   expects:   ${check.expects}\n`);
      const outcome = await check.run(platform).catch((err: Error) => ({ happened: `it failed to run: ${err.message}`, pass: false, skipped: false, detail: undefined }));
      out(`   happened:  ${outcome.happened}\n`);
      if (outcome.detail) out(outcome.detail.replace(/^(?=.)/gm, '      '));
      const verdict = outcome.skipped ? 'SKIP' : outcome.pass ? 'PASS' : 'FAIL';
      tally[verdict]++;
      out(`   ${verdict}\n   read it:   ${check.readIt}\n`);
    }
  }
  out(`\n${tally.PASS} passed, ${tally.FAIL} failed${tally.SKIP ? `, ${tally.SKIP} skipped` : ''}\n`);
  return tally.FAIL ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`scenarios: ${err.message}\n`);
    process.exit(1);
  },
);
