import { SignJWT } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { startServer, type LiveServer } from '../support/live-server.js';
import { launchChromium } from './chromium.js';

const adminToken = 'an-admin-token-for-tests';
const ticketSecret = 'a-join-ticket-secret-of-32-chars!';
let live: LiveServer;
let browser: Browser;

const room = (name: string, fields: Record<string, unknown> = {}) => ({
  ...defaultRoomSettings,
  name,
  capacity: 1,
  heartbeatTimeoutMs: 20_000,
  heartbeatIntervalMs: 2000,
  ...fields,
});

beforeAll(async () => {
  [live, browser] = await Promise.all([
    startServer(['--admin-token', adminToken], {}, {
      rooms: [room('main', { ticketSecret }), room('drop', { opensAt: Date.now() + 8000 })],
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await live?.close();
});

let context: ReturnType<Browser['newContext']> | undefined;
async function tab(path: string): Promise<Page> {
  context ??= browser.newContext({ viewport: { width: 390, height: 780 } });
  const page = await (await context).newPage();
  await page.goto(`${live.httpUrl}${path}`);
  await page.waitForFunction(() => ['queued', 'active'].includes(document.body.dataset.state ?? ''), undefined, { polling: 50 });
  return page;
}

function admin(body: unknown, name = 'main'): Promise<Response> {
  return fetch(`${live.httpUrl}/api/rooms/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(body),
  });
}

const text = (page: Page, selector: string) => page.locator(selector).textContent();
const visible = (page: Page, selector: string) => page.locator(selector).isVisible();

describe('the waiting page in every state a visitor can be in, in Chromium', () => {
  it('scheduled: a pre-queue place with a countdown and the fairness rule, then a drawn place when the line opens', async () => {
    const visitors = [await tab('/?room=drop'), await tab('/?room=drop')];
    for (const page of visitors) {
      expect(await visible(page, '#prequeue')).toBe(true);
      expect(await text(page, '#countdown')).toMatch(/^0:0\d$/);
      expect(await text(page, '#prequeue')).toContain('arriving earlier gives no advantage');
      expect(await text(page, '#position')).toBe('–');
    }
    // At opensAt one is admitted and the other gets its drawn place.
    for (const page of visitors) {
      await page.waitForFunction(() => document.body.dataset.prequeue !== 'true', undefined, { polling: 50, timeout: 15_000 });
    }
    const states = await Promise.all(visitors.map((page) => page.evaluate(() => document.body.dataset.state)));
    expect([...states].sort()).toEqual(['active', 'queued']);
    const waiting = visitors[states.indexOf('queued')]!;
    expect(await text(waiting, '#position')).toBe('1');
    await Promise.all(visitors.map((page) => page.close()));
  });

  it('paused and maintenance: the status and the notice show at once; priority: a badge', async () => {
    const seated = await tab('/');
    const waiting = await tab('/');
    await admin({ status: 'paused', notice: 'Payment provider down, back in 5 minutes' });
    await waiting.waitForFunction(() => document.body.dataset.roomStatus === 'paused', undefined, { polling: 50 });
    expect(await text(waiting, '#room-notice')).toContain('Payment provider down, back in 5 minutes');
    await admin({ status: 'maintenance', notice: null });
    await waiting.waitForFunction(() => document.body.dataset.roomStatus === 'maintenance', undefined, { polling: 50 });
    expect(await text(waiting, '#room-notice')).toContain('Down for maintenance');
    // The seated visitor's visit ends with the maintenance close.
    await seated.waitForFunction(() => document.body.dataset.state === 'ended', undefined, { polling: 50 });
    expect(await text(seated, '#ended-title')).toBe('Down for maintenance');
    const ticket = await new SignJWT({ room: 'main', priority: 3 }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(ticketSecret));
    const vip = await tab(`/?ticket=${ticket}`);
    expect(await visible(vip, '#priority-badge')).toBe(true);
    expect(await text(vip, '#position')).toBe('1');
    await waiting.waitForFunction(() => document.getElementById('position')?.textContent === '2', undefined, { polling: 50 });
    expect(await visible(waiting, '#priority-badge')).toBe(false);
    await admin({ status: 'open' });
    await vip.waitForFunction(() => document.body.dataset.state === 'active', undefined, { polling: 50 });
    expect(await visible(vip, '#room-notice')).toBe(false);
    await Promise.all([seated, waiting, vip].map((page) => page.close()));
  });
});

describe('dashboard operator controls in Chromium', () => {
  it('ask for the admin token and change status, notice, capacity and rate through the admin API', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    await page.goto(`${live.httpUrl}/dashboard`);
    const card = page.locator('.room[data-room="main"]');
    await card.waitFor();
    const form = card.locator('.controls');
    await form.locator('select[name="status"]').selectOption('paused');
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => form.locator('.result').textContent()).toBe('Enter the admin token first.');
    await page.fill('#admin-token', 'wrong-token');
    await page.dispatchEvent('#admin-token', 'change');
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => form.locator('.result').textContent()).toBe('The admin token was refused.');
    await page.fill('#admin-token', adminToken);
    await page.dispatchEvent('#admin-token', 'change');
    await form.locator('select[name="status"]').selectOption('paused');
    await form.locator('input[name="capacity"]').fill('4');
    await form.locator('input[name="admissionRate"]').fill('7');
    await form.locator('input[name="notice"]').fill('Doors at eight');
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => form.locator('.result').textContent()).toBe('Applied: paused');
    const view = await (await fetch(`${live.httpUrl}/api/rooms/main`)).json();
    expect(view).toMatchObject({ status: 'paused', capacity: 4, admissionRate: 7, notice: 'Doors at eight' });
    await expect.poll(() => card.locator('[data-field="notice"]').textContent(), { timeout: 5000 }).toBe('Notice: Doors at eight');
    await page.close();
  });
});
