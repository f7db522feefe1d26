// The activation flow in a real browser: the page names the partner, the button downloads the
// credential file once, and the link then says it was used. Screenshots go to e2e/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startPortal, launchBrowser, screenshotDir } from './portal.mjs';

let portal;
let browser;

before(async () => {
  mkdirSync(screenshotDir, { recursive: true });
  portal = await startPortal();
  portal.cli('recipient', 'create', 'acme_foods', '--property', 'partner_id=P001');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  portal?.stop();
});

test('anonymous visitors land on a styled sign-in page that hydrates', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(portal.base + '/');
  await page.waitForURL(/\/login$/);
  await page.getByRole('heading', { name: 'Sign in to your data' }).waitFor();
  // Tailwind's classes reached the stylesheet: the header has a white background, the body slate.
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bg, 'rgba(0, 0, 0, 0)');
  // The wasm bundle loads and hydrates without errors.
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('.wasm')));
  await page.waitForTimeout(300);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: join(screenshotDir, 'login.png'), fullPage: true });
  await page.close();
});

test('activation link downloads the credential file once', async () => {
  const link = portal.cli('activation-link', 'acme_foods').trim();
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('heading', { name: 'Credentials for acme_foods' }).waitFor();
  await page.screenshot({ path: join(screenshotDir, 'activation.png'), fullPage: true });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download credential file' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'config.share');
  const profile = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(profile.shareCredentialsVersion, 1);
  assert.equal(profile.endpoint, portal.base + '/delta-sharing');
  assert.match(profile.bearerToken, /^dss_/);
  // The token works against the sharing API.
  const shares = await fetch(profile.endpoint + '/shares', { headers: { Authorization: `Bearer ${profile.bearerToken}` } });
  assert.equal(shares.status, 200);

  await page.goto(link);
  await page.getByRole('heading', { name: 'This link was already used' }).waitFor();
  await page.screenshot({ path: join(screenshotDir, 'activation-used.png'), fullPage: true });
  await context.close();
});

test('unknown pages and links say so', async () => {
  const page = await browser.newPage();
  const resp = await page.goto(portal.base + '/activate/act_bogus');
  assert.equal(resp.status(), 404);
  await page.getByRole('heading', { name: 'Link not found' }).waitFor();
  const missing = await page.goto(portal.base + '/no/such/page');
  assert.equal(missing.status(), 404);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await page.close();
});

test('activation page fits a phone and works from the keyboard', async () => {
  const link = portal.cli('activation-link', 'acme_foods').trim();
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('heading', { name: 'Credentials for acme_foods' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
  await page.screenshot({ path: join(screenshotDir, 'activation-phone.png'), fullPage: true });
  // Tab past the header's two links to the button, press Enter: the download starts.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Download credential file');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  assert.equal(download.suggestedFilename(), 'config.share');
  await context.close();
});
