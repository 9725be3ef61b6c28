import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { inCI } from './support/servers';
import { startPlatform, type Platform } from './support/platform';

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(
  (p): p is string => !!p && existsSync(p),
);
if (!chromium && !inCI) process.stderr.write('note: no Chromium found (apt-get install chromium): GraphiQL browser test not run\n');
const describeWithBrowser = chromium || inCI ? describe : describe.skip;

describeWithBrowser('GraphiQL at /graphiql in a real browser', () => {
  let platform: Platform;
  let browser: Browser;
  beforeAll(async () => {
    if (!chromium) throw new Error('CI=true but no Chromium is installed (see .ci/run)');
    platform = await startPlatform('pglite');
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      // No network here: keep Chromium from calling home, and run as root in CI containers.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('renders from local assets only and runs a query against the gateway', async () => {
    const page = await browser.newPage();
    const offsite: string[] = [];
    const failures: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(platform.gateway.url) && !req.url().startsWith('data:')) offsite.push(req.url());
    });
    page.on('pageerror', (err) => failures.push(String(err)));
    const query = '{ products(first: 2) { edges { node { name } } } }';
    await page.goto(`${platform.gateway.url}/graphiql?query=${encodeURIComponent(query)}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.graphiql-container', { timeout: 15_000 });
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() => document.querySelector('.result-window')?.textContent?.includes('"products"'), { timeout: 15_000 });
    const result = await page.$eval('.result-window', (el) => el.textContent ?? '');
    expect(result).toMatch(/"name"/);
    expect(offsite).toEqual([]);
    expect(failures).toEqual([]);
  });
});
