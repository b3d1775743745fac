/**
 * Regenerates the README's screenshots in docs/img/: the waiting page while queued, while its connection is
 * being restored and once admitted (phone size), in the pre-queue before a sale opens and while the line is
 * paused with an operator's notice, the operators' dashboard after a minute of traffic, and the page as a live
 * room (`--chat`) with members chatting.
 * Run: npx tsx test/browser/screenshots.ts          (all of them)
 *      npx tsx test/browser/screenshots.ts room     (only the live room's)
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNodeClient, type WaitingRoomClient } from '../../src/client/node.js';
import { startHttpRelay } from '../support/http-relay.js';
import { defaultRoomSettings } from '../../src/config/server-config.js';
import { startServer } from '../support/live-server.js';
import { launchChromium } from './chromium.js';

const imageDir = fileURLToPath(new URL('../../docs/img/', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const browser = await launchChromium();
if (process.argv[2] === 'room') {
  try {
    await roomScreenshots();
  } finally {
    await browser.close();
  }
  process.exit(0);
}
const live = await startServer(['--capacity', '5']);
// The visitor's page goes through a relay, so the connection can be lost and restored on cue.
const relay = await startHttpRelay(live.httpUrl);
const crowd: WaitingRoomClient[] = [];
const join = () => {
  const client = createNodeClient({ url: live.url });
  client.connect();
  crowd.push(client);
  return client;
};
/** The longest-seated visitor leaves, so the head of the line moves up. */
const oneLeaves = () => {
  const seated = crowd.findIndex((client) => client.state === 'active');
  if (seated >= 0) crowd.splice(seated, 1)[0]!.leave();
};

try {
  mkdirSync(imageDir, { recursive: true });
  // A minute of traffic: a crowd arrives faster than seats free up, then the line drains a little.
  for (let i = 0; i < 5; i++) join();
  await sleep(300);
  for (let second = 0; second < 60; second++) {
    if (second < 40 && second % 2 === 0) join();
    if (second % 3 === 0) oneLeaves();
    if (second === 20) for (let i = 0; i < 6; i++) join();
    await sleep(1000);
  }

  const visitor = await (await browser.newContext({ viewport: { width: 390, height: 760 } })).newPage();
  await visitor.goto(`${relay.httpUrl}/`);
  await visitor.waitForFunction(() => document.body.dataset.state === 'queued');
  // Two move up, so the progress bar shows the way travelled since joining.
  oneLeaves();
  await sleep(1000);
  oneLeaves();
  await sleep(1500);
  await visitor.screenshot({ path: `${imageDir}waiting-queued.png` });

  relay.cut();
  await visitor.waitForFunction(() => document.body.dataset.reconnecting === 'true');
  await sleep(800);
  await visitor.screenshot({ path: `${imageDir}waiting-reconnecting.png` });
  relay.restore();
  await visitor.waitForFunction(() => document.body.dataset.reconnecting === 'false', undefined, { timeout: 30_000 });

  const dashboard = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  await dashboard.goto(`${live.httpUrl}/dashboard`);
  await dashboard.waitForSelector('.room[data-room="main"]');
  await sleep(2500);
  await dashboard.screenshot({ path: `${imageDir}dashboard.png` });

  while ((await visitor.evaluate(() => document.body.dataset.state)) !== 'active') {
    oneLeaves();
    await sleep(300);
  }
  await sleep(800);
  await visitor.screenshot({ path: `${imageDir}waiting-admitted.png` });
  await saleScreenshots();
  await roomScreenshots();
  process.stdout.write(`screenshots written to ${imageDir}\n`);
} finally {
  for (const client of crowd) client.close();
  await browser.close();
  await relay.close();
  await live.close();
}

/** A room before its sale opens (the pre-queue), then opened and paused with a notice. */
async function saleScreenshots(): Promise<void> {
  const adminToken = 'screenshots';
  const sale = await startServer(['--admin-token', adminToken], {}, {
    rooms: [{ ...defaultRoomSettings, name: 'main', capacity: 0, opensAt: Date.now() + 12 * 60_000 + 30_000 }],
  });
  const others = [0, 1, 2].map(() => createNodeClient({ url: sale.url }));
  try {
    for (const client of others) client.connect();
    const page = await (await browser.newContext({ viewport: { width: 390, height: 760 } })).newPage();
    await page.goto(`${sale.httpUrl}/`);
    await page.waitForFunction(() => document.body.dataset.prequeue === 'true');
    await sleep(1200);
    await page.screenshot({ path: `${imageDir}waiting-prequeue.png` });
    const admin = (body: unknown) =>
      fetch(`${sale.httpUrl}/api/rooms/main`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` }, body: JSON.stringify(body) });
    await admin({ status: 'open' });
    await admin({ status: 'paused', notice: 'Payment provider down, back in 5 minutes' });
    await page.waitForFunction(() => document.body.dataset.roomStatus === 'paused' && document.body.dataset.prequeue === 'false');
    await sleep(800);
    await page.screenshot({ path: `${imageDir}waiting-paused.png` });
  } finally {
    for (const client of others) client.close();
    await sale.close();
  }
}

/** A live room: three members chatting, one typing, seen from a visitor's phone. */
async function roomScreenshots(): Promise<void> {
  const chat = await startServer(['--chat', '--capacity', '20']);
  const others = ['Ada', 'Grace'].map(() => createNodeClient({ url: chat.url }));
  try {
    for (const client of others) client.connect();
    while (!others.every((client) => client.liveRoom)) await sleep(50);
    const [ada, grace] = others as [WaitingRoomClient, WaitingRoomClient];
    ada.say('Hi everyone! The stream starts in five minutes.');
    await sleep(150);
    grace.say('Can we ask questions here during the Q&A?');
    await sleep(150);
    ada.say('Yes: post them here and the host picks them up at the end.');
    await sleep(300);
    const page = await (await browser.newContext({ viewport: { width: 390, height: 760 } })).newPage();
    await page.goto(`${chat.httpUrl}/`);
    await page.waitForFunction(() => document.body.dataset.state === 'room');
    await page.fill('#composer-text', 'Thanks! Is there a recording afterwards?');
    await page.press('#composer-text', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#messages .msg:not(.pending)').length === 4);
    grace.typing(true);
    await page.waitForFunction(() => document.getElementById('typing')?.textContent !== '');
    await sleep(500);
    await page.screenshot({ path: `${imageDir}waiting-room.png` });
  } finally {
    for (const client of others) client.close();
    await chat.close();
  }
}
