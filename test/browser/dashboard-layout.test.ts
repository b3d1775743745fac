import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, TestClient, type LiveServer } from '../support/live-server.js';
import { launchChromium } from './chromium.js';

let browser: Browser;
let live: LiveServer;
const dir = mkdtempSync(join(tmpdir(), 'anteroom-dashboard-'));

beforeAll(async () => {
  const rooms = join(dir, 'rooms.json');
  writeFileSync(rooms, JSON.stringify({ rooms: [{ name: 'main', capacity: 1 }, { name: 'presale-early-access', capacity: 2 }] }));
  [live, browser] = await Promise.all([startServer(['--config', rooms, '--heartbeat-timeout', '20000']), launchChromium()]);
  // Traffic in both rooms, so the event log has rows and the cards have numbers.
  for (const path of ['/', '/', '/', '/rooms/presale-early-access', '/rooms/presale-early-access', '/rooms/presale-early-access']) {
    await TestClient.placed(`${live.url}${path}`);
  }
});

afterAll(async () => {
  await browser?.close();
  await live?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard', () => {
  it.each([
    ['a 1440 px screen', 1440, 900],
    ['a 390 px phone', 390, 844],
  ])('fits %s with two rooms: nothing wider than the window, every room card inside it', async (_name, width, height) => {
    const page = await (await browser.newContext({ viewport: { width, height } })).newPage();
    await page.goto(`${live.httpUrl}/dashboard`);
    await page.waitForFunction(() => document.querySelectorAll('.room').length === 2 && document.querySelectorAll('#event-rows tr').length > 0);
    const layout = await page.evaluate(() => ({
      pageWidth: document.documentElement.scrollWidth,
      cardRights: Array.from(document.querySelectorAll('.room')).map((card) => Math.ceil(card.getBoundingClientRect().right)),
    }));
    expect(layout.pageWidth).toBe(width);
    for (const right of layout.cardRights) expect(right).toBeLessThanOrEqual(width);
    await page.close();
  });

  it('labels the queue chart with whole, evenly spaced numbers', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${live.httpUrl}/dashboard`);
    await page.waitForFunction(() => document.querySelectorAll('.room svg text').length > 0);
    const ticks = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.room[data-room="main"] svg text[data-axis="y"]')).map((label) => label.textContent),
    );
    expect(ticks).toEqual(['0', '2', '4']);
    await page.close();
  });
});
