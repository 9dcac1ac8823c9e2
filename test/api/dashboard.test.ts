/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against the real
 * HTTP server and a seeded archive: every chart drawn with the seeded numbers, KPIs, sync and relay
 * tables, the status filter, a relay's page (NIP-11, latest checks, RTT chart, sync lag), hostile
 * relay strings shown as text, the event search, the error banner, and an empty archive. Screenshots
 * land in test-artifacts/. No console error and no page error is allowed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startHttpServer, type HttpServer } from '../../src/api/http-server.js';
import { loadConfig } from '../../src/config/loader.js';
import type { Database } from '../../src/db/database.js';
import { silentLogger } from '../../src/observability/logger.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { HOSTILE_NAME, seedArchive, type SeededArchive } from '../support/seed-archive.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const OVERVIEW_CHARTS = ['chart-uptime', 'chart-latency', 'chart-software', 'chart-countries', 'chart-events-per-day', 'chart-kinds'];

interface ChartSummary {
  id: string;
  exists: boolean;
  type: string | null;
  labels: string[];
  datasets: { label: string; points: number; total: number }[];
  /** Pixels of the canvas that are not transparent: the chart was painted. */
  painted: number;
}

/** In the page: what Chart.js holds for each canvas, and whether the canvas was painted. */
function summarizeCharts(ids: string[]): ChartSummary[] {
  interface BrowserCanvas {
    width: number;
    height: number;
    getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  }
  interface ChartInstance {
    config: { type: string };
    data: { labels?: unknown[]; datasets: { label?: string; data: unknown[] }[] };
  }
  const page = globalThis as unknown as {
    document: { getElementById(id: string): BrowserCanvas | null };
    Chart: { getChart(canvas: BrowserCanvas): ChartInstance | undefined };
  };
  return ids.map((id) => {
    const canvas = page.document.getElementById(id);
    const chart = canvas ? page.Chart.getChart(canvas) : undefined;
    let painted = 0;
    const pixels = canvas && canvas.width > 0 ? canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data : undefined;
    if (pixels) for (let index = 3; index < pixels.length; index += 4) if ((pixels[index] ?? 0) > 0) painted += 1;
    return {
      id,
      exists: canvas !== null,
      type: chart ? chart.config.type : null,
      labels: (chart?.data.labels ?? []).map(String),
      datasets: (chart?.data.datasets ?? []).map((dataset) => ({
        label: dataset.label ?? '',
        points: dataset.data.length,
        total: dataset.data.reduce<number>(
          (sum, point) => sum + (typeof point === 'number' ? point : Number((point as { y?: number }).y ?? 0)),
          0,
        ),
      })),
      painted,
    };
  });
}

// In CI a missing browser is a failure, not a skip (.ci/run installs it).
const describeBrowser = describe.skipIf(!haveChromium && !process.env.CI);
const title = haveChromium ? 'dashboard in Chromium' : `dashboard in Chromium (skipped: ${CHROMIUM} is not installed; .ci/run installs it)`;

describeBrowser(title, () => {
  let test: TestDatabase;
  let empty: TestDatabase;
  let seeded: SeededArchive;
  let server: HttpServer;
  let emptyServer: HttpServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const dialogs: string[] = [];

  const start = (db: Database) => {
    const config = loadConfig({ env: {} }).config;
    return startHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry: metricsRegistry(),
      checkReady: () => db.ping(),
      readinessTimeoutMs: 2_000,
      logger: silentLogger(),
      api: { db, config: () => config, version: 'test' },
    });
  };

  /** A page whose console errors, page errors and dialogs (alert from injected markup) are recorded. */
  async function watchedPage(errors: string[]): Promise<Page> {
    const opened = await context.newPage();
    opened.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    opened.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    opened.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    return opened;
  }

  const ready = (target: Page, name: string) =>
    target.waitForSelector(`body[data-ready="${name}"]`, { state: 'attached', timeout: 15_000 });

  /** Opens a URL (a new route of the same page is a hash change) and waits until that page is ready. */
  async function open(target: Page, url: string, name: string): Promise<void> {
    await target.evaluate(() =>
      (globalThis as unknown as { document: { body: { removeAttribute(name: string): void } | null } }).document.body?.removeAttribute(
        'data-ready',
      ),
    );
    await target.goto(url);
    await ready(target, name);
  }

  beforeAll(async () => {
    [test, empty] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    seeded = await seedArchive(test.db);
    [server, emptyServer] = await Promise.all([start(test.db), start(empty.db)]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: 1,
      colorScheme: 'light',
      timezoneId: 'UTC',
    });
    page = await watchedPage(problems);
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await emptyServer?.close();
    await test?.dispose();
    await empty?.dispose();
  });

  it('overview: KPIs, every chart drawn with the archive numbers, sync and relay tables', async () => {
    await open(page, `${server.url}/`, 'overview');

    const kpi = async (key: string) => page.locator(`[data-kpi="${key}"]`).getAttribute('data-value');
    expect(Number(await kpi('unique_events'))).toBe(seeded.eventCount);
    expect(Number(await kpi('event_relay_pairs'))).toBe(seeded.eventRelayPairs);
    expect(Number(await kpi('relays_up'))).toBe(seeded.relaysUp);
    expect(Number(await kpi('relays_down'))).toBe(seeded.relaysDown);
    expect(Number(await kpi('checks'))).toBe(seeded.checkCount);
    expect(Number(await kpi('newest_created_at'))).toBe(seeded.newestCreatedAt);
    expect(await page.locator('[data-kpi="unique_events"] .value').textContent()).toBe(String(seeded.eventCount));
    expect(await page.locator('[data-kpi="newest_created_at"] .value').textContent()).toMatch(/ago$/);

    const charts = new Map((await page.evaluate(summarizeCharts, OVERVIEW_CHARTS)).map((chart) => [chart.id, chart]));
    for (const id of OVERVIEW_CHARTS) {
      const chart = charts.get(id);
      expect(chart?.exists, id).toBe(true);
      expect(chart?.type, id).not.toBeNull();
      expect(
        chart?.datasets.some((dataset) => dataset.points > 0 && dataset.total > 0),
        id,
      ).toBe(true);
      expect(chart?.painted, id).toBeGreaterThan(500);
    }
    const total = (id: string, index = 0) => charts.get(id)?.datasets[index]?.total;
    expect(total('chart-events-per-day')).toBe(seeded.eventCount);
    expect(charts.get('chart-events-per-day')?.labels).toHaveLength(30);
    expect(total('chart-kinds')).toBe(seeded.eventCount);
    expect(charts.get('chart-kinds')?.labels).toHaveLength(seeded.kinds.length);
    expect(charts.get('chart-kinds')?.labels).toContain('30023 · article');
    expect(total('chart-latency')).toBe(seeded.relaysUp);
    expect(total('chart-software')).toBe(seeded.urls.length);
    expect(total('chart-countries')).toBe(seeded.urls.length);
    expect(charts.get('chart-countries')?.labels).toEqual(expect.arrayContaining(['DE', 'US', 'FR']));
    const uptime = charts.get('chart-uptime');
    expect(uptime?.datasets.map((dataset) => dataset.label)).toEqual(['up', 'down']);
    expect(uptime?.datasets[0]?.points).toBeGreaterThanOrEqual(5);
    expect(uptime?.datasets[1]?.total).toBeGreaterThan(0);

    // Sync: most behind first (never completed, then days behind, then minutes), lag humanised.
    const syncRows = page.locator('#sync-table tbody tr');
    expect(await syncRows.locator('a').allTextContents()).toEqual([seeded.relays.hostile, seeded.relays.beta, seeded.relays.alpha]);
    const lags = await syncRows.locator('td:nth-child(3)').allTextContents();
    expect(lags[0]).toBe('not yet');
    expect(lags[1]).toMatch(/^3 d 2 h$/);
    expect(lags[2]).toMatch(/^1[01] min$/);

    // Relays: every seeded relay, linked to its page, with status, RTT, software and country.
    const relayRows = page.locator('#relays-table tbody tr');
    expect((await relayRows.locator('a.relay-link').allTextContents()).sort()).toEqual([...seeded.urls].sort());
    const alphaRow = page.locator(`#relays-table tr[data-url="${seeded.relays.alpha}"]`);
    expect(await alphaRow.locator('.badge').textContent()).toBe('up');
    expect(await alphaRow.textContent()).toContain('hoytech/strfry');
    expect(await alphaRow.textContent()).toContain('DE');
    expect(await alphaRow.locator('td.num').textContent()).toMatch(/^\d+ ms$/);
    expect(await page.locator(`#relays-table tr[data-url="${seeded.relays.hostile}"] .badge`).textContent()).toBe('down');
    expect(await page.locator(`#relays-table tr[data-url="${seeded.relays.onion}"] .badge`).textContent()).toBe('unchecked');
    expect(await page.locator(`#relays-table tr[data-url="${seeded.relays.hostile}"] .relay-name`).textContent()).toBe(HOSTILE_NAME);
    expect(await page.locator('#relays-more').isHidden()).toBe(true);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.locator('img').count()).toBe(0);

    await page.screenshot({ path: `${ARTIFACTS}dashboard-overview.png`, fullPage: true });

    // The status filter reloads the table from the API.
    await page.selectOption('#relay-status', 'down');
    await expect.poll(() => relayRows.locator('a.relay-link').allTextContents()).toEqual([seeded.relays.hostile]);
    await page.selectOption('#relay-status', 'unchecked');
    await expect.poll(() => relayRows.locator('a.relay-link').allTextContents()).toEqual([seeded.relays.onion]);
    await page.selectOption('#relay-status', 'up');
    await expect
      .poll(async () => (await relayRows.locator('a.relay-link').allTextContents()).sort())
      .toEqual([seeded.relays.alpha, seeded.relays.beta].sort());
    expect(problems).toEqual([]);
  });

  it('relay page: NIP-11, latest checks with TLS and DNS, uptime, RTT chart with failures, sync lag', async () => {
    await page.locator(`#relays-table a.relay-link:text-is("${seeded.relays.alpha}")`).click();
    await ready(page, 'relay');
    expect(new URL(page.url()).hash).toBe(`#/relay?url=${encodeURIComponent(seeded.relays.alpha)}`);

    expect(await page.locator('#relay-url').textContent()).toBe(seeded.relays.alpha);
    expect(await page.locator('#relay-nip11 [data-field="name"]').textContent()).toBe('Alpha relay');
    expect(await page.locator('#relay-nip11 [data-field="software"]').textContent()).toBe('git+https://github.com/hoytech/strfry.git');
    expect(await page.locator('#relay-nip11 [data-field="supported_nips"] .chip').count()).toBe(11);
    expect(await page.locator('#relay-nip11 [data-field="limitation"]').textContent()).toContain('max_message_length');

    const checks = page.locator('#relay-checks tbody tr');
    expect(await checks.evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { check: string } }).dataset.check))).toEqual(
      ['open', 'read', 'write', 'nip11', 'dns', 'ssl', 'geo', 'requirements', 'claims'],
    );
    const row = (type: string) => page.locator(`#relay-checks tr[data-check="${type}"]`);
    expect(await row('open').locator('.badge').first().textContent()).toBe('ok');
    expect(await row('write').textContent()).toContain('auth-required: we only accept events from members');
    expect(await row('ssl').textContent()).toMatch(/expires \d{4}-\d\d-\d\d \((59|60) d\)/);
    expect(await row('ssl').textContent()).toContain("Let's Encrypt");
    expect(await row('dns').textContent()).toContain('A 192.0.2.10');
    expect(await row('geo').textContent()).toContain('DE');

    expect(await page.locator('[data-kpi="availability_24h"]').getAttribute('data-value')).toBe('100 %');
    expect(await page.locator('[data-kpi="availability_30d"]').getAttribute('data-value')).toBe(
      `${((seeded.alphaOpenChecks.ok / (seeded.alphaOpenChecks.ok + seeded.alphaOpenChecks.failed)) * 100).toFixed(1)} %`,
    );
    expect(await page.locator('[data-kpi="median_rtt_open_7d_ms"]').getAttribute('data-value')).toMatch(/^\d+ ms$/);
    expect(await page.locator('#relay-lag').textContent()).toMatch(/^1[01] min$/);

    // Claims against behaviour: the probe's findings with their evidence, the synchronizer's NIP-77 verdict.
    const claim = (subject: string) => page.locator(`#relay-claims tr[data-subject="${subject}"]`);
    expect(await claim('9').locator('.badge').textContent()).toBe('verified');
    expect(await claim('70').locator('.badge').textContent()).toBe('refuted');
    expect(await claim('70').textContent()).toContain('accepted a protected event');
    expect(await claim('limitation.max_subscriptions').locator('.badge').textContent()).toBe('untested');

    const [rtt] = await page.evaluate(summarizeCharts, ['chart-relay-rtt']);
    expect(rtt?.type).toBe('line');
    expect(rtt?.datasets[0]?.points).toBe(seeded.alphaOpenChecks.ok);
    expect(rtt?.datasets[1]?.points).toBe(seeded.alphaOpenChecks.failed);
    expect(rtt?.painted).toBeGreaterThan(500);
    expect(await page.locator('#error').isHidden()).toBe(true);

    await page.screenshot({ path: `${ARTIFACTS}dashboard-relay.png`, fullPage: true });
    expect(problems).toEqual([]);
  });

  it('shows hostile relay strings as text: nothing injected, nothing executed', async () => {
    await open(page, `${server.url}/#/relay?url=${encodeURIComponent(seeded.relays.hostile)}`, 'relay');
    expect(await page.locator('#relay-nip11 [data-field="name"]').textContent()).toBe(HOSTILE_NAME);
    expect(await page.locator('#relay-nip11 [data-field="description"]').textContent()).toContain('<script>alert("x")</script>');
    expect(await page.locator('#relay-nip11 [data-field="software"]').textContent()).toBe('<svg onload=alert(2)>');
    expect(await page.locator('#relay-checks tr[data-check="open"]').textContent()).toContain('<b>timeout</b> after 10000 ms');
    expect(await page.locator('#relay-checks tr[data-check="geo"]').textContent()).toContain('<i>Paris</i>');
    expect(await page.locator('.relay-head .badge').first().textContent()).toBe('down');
    expect(await page.locator('#relay-sync').textContent()).toContain('monitor: <b>timeout</b>');
    expect(await page.locator('img, main script, main b, main i, svg[onload]').count()).toBe(0);
    const [rtt] = await page.evaluate(summarizeCharts, ['chart-relay-rtt']);
    expect(rtt?.datasets[0]?.points).toBe(seeded.hostileOpenChecks.ok);
    expect(rtt?.datasets[1]?.points).toBe(seeded.hostileOpenChecks.failed);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('event search shows matching events as JSON', async () => {
    await open(page, `${server.url}/#/events?kinds=30023`, 'events');
    const cards = page.locator('#event-results .event');
    expect(await cards.count()).toBe(6);
    const first = JSON.parse((await cards.first().locator('pre').textContent()) ?? '{}') as { kind: number; sig: string };
    expect(first.kind).toBe(30023);
    expect(first.sig).toMatch(/^[0-9a-f]{128}$/);
    await page.fill('#event-search input[name="#t"]', 'nostr');
    await page.fill('#event-search input[name="kinds"]', '0');
    await page.evaluate(() =>
      (globalThis as unknown as { document: { body: { removeAttribute(name: string): void } } }).document.body.removeAttribute(
        'data-ready',
      ),
    );
    await page.click('#event-search button[type="submit"]');
    await ready(page, 'events');
    expect(new URL(page.url()).hash).toBe('#/events?kinds=0&%23t=nostr');
    const found = (await cards.locator('pre').allTextContents()).map((text) => JSON.parse(text) as { kind: number; tags: string[][] });
    expect(found).toHaveLength(6);
    for (const event of found) {
      expect(event.kind).toBe(0);
      expect(event.tags).toContainEqual(['t', 'nostr']);
    }
    expect(problems).toEqual([]);
  });

  it('shows a failed request in the error banner without throwing', async () => {
    const errors: string[] = [];
    const other = await watchedPage(errors);
    await open(other, `${server.url}/#/events?ids=not-hex`, 'events');
    expect(await other.locator('#error').isVisible()).toBe(true);
    expect(await other.locator('#error').textContent()).toContain('HTTP 400');
    await open(other, `${server.url}/#/relay?url=${encodeURIComponent('wss://unknown.example/')}`, 'relay');
    expect(await other.locator('#error').textContent()).toContain('no relay wss://unknown.example/ in the archive');
    await other.close();
    // Only the browser's own notes of the failed requests; nothing thrown.
    expect(errors.filter((error) => !/Failed to load resource: the server responded with a status of (400|404)/.test(error))).toEqual([]);
  });

  it('an empty archive shows "no data yet" everywhere, without errors', async () => {
    const errors: string[] = [];
    const other = await watchedPage(errors);
    await open(other, `${emptyServer.url}/`, 'overview');
    for (const id of OVERVIEW_CHARTS) {
      const box = other.locator(`.chart-box:has(#${id})`);
      expect(await box.getAttribute('class'), id).toContain('empty');
      expect(await box.locator('.empty-note').textContent(), id).toMatch(/^no data yet/);
    }
    expect(await other.locator('[data-kpi="unique_events"]').getAttribute('data-value')).toBe('0');
    expect(await other.locator('#sync-table').textContent()).toContain('no relay synced yet');
    expect(await other.locator('#relays-table').textContent()).toContain('no relays yet');
    expect(await other.locator('#error').isHidden()).toBe(true);
    await other.close();
    expect(errors).toEqual([]);
  });
});
