// Self-service tokens on /connect, background exports on /exports and the Power Query panel,
// in a real browser on the demo data. Screenshots go to e2e/screenshots/.
//
// What this file expects of the UI (names as a screen reader hears them):
//   header:            link "Connect your tools" (href="/connect")
//   /connect:          input#endpoint (readonly) + button "Copy"; table [data-testid=tokens] with
//                      <tr data-token-id> per token (name, status text active|expired|revoked,
//                      "this browser" on the session's token); policy text
//                      "at most N active tokens, each valid (for) up to D days"; create form with
//                      inputs "Token name" and "Valid for (days)", button "Create token";
//                      after creating or rotating: input#new-token, link "Download config.share"
//                      (a[data-testid=download-profile], download="config.share"), and the
//                      Power Query (a <pre> or <textarea>) holding the token.
//   each token row:    <details> summary "Rotate…" with select "Old token" (options 0 "stops now",
//                      1, 24, 168) and button "Rotate now"; <details> summary "Revoke…" with
//                      button "Revoke this token" (a JS confirm, if any, is accepted).
//   errors:            role=alert box; the limit one names the number ("…2 active tokens…").
//   table page (job mode): buttons "Prepare Excel file", "Prepare CSV"; no "Excel (.xlsx)" link;
//                      details[data-testid=power-query] with #power-query-m.
//   /exports:          [data-testid=jobs] li[data-job-id] with <progress>, form button "Cancel"
//                      while queued/running, link "Download" when done; the page refreshes
//                      itself; with no jobs, a text matching /\bno\b.*\b(exports?|jobs?|files?)\b/i.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortal, launchBrowser, screenshotDir } from './portal.mjs';

let portal;
let browser;
let links;
let endpoint;

before(async () => {
  mkdirSync(screenshotDir, { recursive: true });
  // Any view over 10 rows is prepared as a background job.
  portal = await startPortal({ PORTAL_EXPORT_JOB_ROWS: '10' });
  const out = portal.cli('demo');
  links = Object.fromEntries([...out.matchAll(/^\s+(\w+) \(P\d+\): (\S+)$/gm)].map((m) => [m[1], m[2]]));
  endpoint = `${portal.base}/delta-sharing`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  portal?.stop();
});

const shot = (page, name) => page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

/// The HTTP status the sharing API gives `token`.
async function sharesStatus(token) {
  const resp = await fetch(`${endpoint}/shares`, { headers: { Authorization: `Bearer ${token}` } });
  return resp.status;
}

/// A new browser context signed in through `recipient`'s demo activation link; also returns
/// the credential file the activation downloaded.
async function activated(recipient, options = {}) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept());
  await page.goto(links[recipient]);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download credential file' }).click()]);
  const profile = JSON.parse(readFileSync(await download.path(), 'utf8'));
  await page.getByRole('link', { name: 'continue to your data' }).click();
  await page.getByRole('heading', { name: 'Your data' }).waitFor();
  return { context, page, profile };
}

/// A new browser context signed in at /login with a CLI token named `name`.
async function signedIn(recipient, name, options = {}) {
  const out = portal.cli('token', 'create', recipient, '--name', name);
  const profile = JSON.parse(out.slice(0, out.lastIndexOf('}') + 1));
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  await page.goto(portal.base + '/login');
  await page.getByLabel('Access token').fill(profile.bearerToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your data' }).waitFor();
  return { context, page, profile };
}

/// Opens /connect afresh (no one-time token on it) and waits for the tokens table.
async function openConnect(page) {
  await page.goto(portal.base + '/connect');
  await page.getByTestId('tokens').waitFor();
}

const tokenRows = (page, text) => page.getByTestId('tokens').locator('tr[data-token-id]', { hasText: text });

/// The status a token row shows: exactly one of active, expired, revoked.
async function status(row) {
  const text = (await row.innerText()).toLowerCase();
  const found = new Set(text.match(/\b(active|expired|revoked)\b/g) ?? []);
  assert.equal(found.size, 1, `one status in the row, got: ${text}`);
  return [...found][0];
}

/// The statuses of every row whose text contains `name`, sorted.
async function statuses(page, name) {
  const rows = await tokenRows(page, name).all();
  return (await Promise.all(rows.map(status))).sort();
}

/// Submits the create form with the mouse; returns the token the page then shows once.
async function createToken(page, name, days) {
  await openConnect(page);
  await page.getByLabel('Token name').fill(name);
  if (days !== undefined) await page.getByLabel('Valid for (days)').fill(String(days));
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.waitForURL(/\/connect\?issued=/);
  return page.locator('#new-token').inputValue();
}

/// The text of every code box in the page's main area (textarea values, pre and code texts).
const codeTexts = (page) =>
  page.evaluate(() => [...document.querySelectorAll('main textarea, main pre, main code')].map((e) => (e.tagName === 'TEXTAREA' ? e.value : e.textContent)));

/// The values of the page's inputs other than the endpoint field (guides may use read-only inputs).
const otherFieldValues = (page) => page.evaluate(() => [...document.querySelectorAll('main input:not(#endpoint):not([type=hidden])')].map((e) => e.value));

let acme; // signed in through acme_foods' activation link (tests a–d and the phone)
let powerBiToken;
let nordic; // signed in through nordic_goods' activation link (exports, policy, self-revoke)

test('anonymous visitors of /connect are sent to sign in first', async () => {
  const resp = await fetch(portal.base + '/connect', { redirect: 'manual', headers: { accept: 'text/html' } });
  assert.ok([302, 303].includes(resp.status), `status ${resp.status}`);
  assert.match(resp.headers.get('location'), /\/login\?next=(%2F|\/)connect$/);
});

test('a partner creates a token on /connect, downloads its config.share, and sees it only once', async () => {
  acme = await activated('acme_foods');
  const { page } = acme;
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.getByRole('link', { name: 'Connect your tools' }).filter({ visible: true }).first().click();
  await page.waitForURL(portal.base + '/connect');
  assert.equal(await page.locator('#endpoint').inputValue(), endpoint);
  assert.ok(await page.locator('#endpoint').evaluate((e) => e.readOnly), 'the endpoint is read-only');
  await page.getByRole('button', { name: 'Copy' }).first().waitFor();
  const main = await page.locator('main').textContent();
  assert.match(main, /at most 5 active tokens, each valid (for )?up to 365 days/i);
  for (const tool of [/Power BI/, /Tableau/, /pandas/i, /Spark/, /Power Query/]) assert.match(main, tool, `a guide for ${tool}`);
  const guides = main + (await codeTexts(page)).join('\n') + (await otherFieldValues(page)).join('\n');
  assert.ok(guides.includes(endpoint), 'the guides are prefilled with the endpoint');
  assert.match(
    guides,
    /wholesale\.commerce\.(sales|stock)|partner_program\.analytics\.returns|shares\/(wholesale|partner_program)\/schemas\//,
    'and with a table shared with acme',
  );
  // The activation's token is the one this browser stands on.
  const mine = tokenRows(page, 'this browser');
  assert.equal(await mine.count(), 1);
  assert.equal(await status(mine), 'active');

  const token = await createToken(page, 'Power BI refresh');
  assert.match(token, /^dss_/);
  assert.ok(!page.url().includes(token), 'the token is not in the address');
  assert.ok((await codeTexts(page)).some((t) => t.includes('Web.Contents') && t.includes(token)), 'the Power Query is prefilled with the new token');
  await shot(page, 'connect');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download config.share' }).click()]);
  assert.equal(download.suggestedFilename(), 'config.share');
  const profile = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(profile.shareCredentialsVersion, 1);
  assert.equal(profile.endpoint, endpoint);
  assert.equal(profile.bearerToken, token);
  assert.equal(await sharesStatus(token), 200);

  // Shown once: the same address no longer holds it.
  await page.reload();
  await page.getByTestId('tokens').waitFor();
  assert.equal(await page.locator('#new-token').count(), 0);
  assert.ok(!(await page.content()).includes(token), 'the token is nowhere on the page');
  assert.deepEqual(await statuses(page, 'Power BI refresh'), ['active']);
  assert.deepEqual(errors, []);
  powerBiToken = token;
});

test('rotating with "stops now" ends the old token at once; the new one works', async () => {
  const { page } = acme;
  await openConnect(page);
  const row = tokenRows(page, 'Power BI refresh');
  await row.locator('summary', { hasText: 'Rotate' }).click();
  await row.getByLabel('Old token').selectOption('0');
  await row.getByRole('button', { name: 'Rotate now' }).click();
  await page.waitForURL(/\/connect\?issued=/);
  const rotated = await page.locator('#new-token').inputValue();
  assert.match(rotated, /^dss_/);
  assert.notEqual(rotated, powerBiToken);
  assert.equal(await sharesStatus(powerBiToken), 401, 'the old token stopped');
  assert.equal(await sharesStatus(rotated), 200, 'the new token works');
  // Same name, the old one expired.
  assert.deepEqual(await statuses(page, 'Power BI refresh'), ['active', 'expired']);
});

test('revoking a token shows it revoked and it stops working', async () => {
  const { page } = acme;
  const token = await createToken(page, 'Tableau extract', 30);
  assert.equal(await sharesStatus(token), 200);
  await openConnect(page);
  const row = tokenRows(page, 'Tableau extract');
  assert.equal(await status(row), 'active');
  await row.locator('summary', { hasText: 'Revoke' }).click();
  await row.getByRole('button', { name: 'Revoke this token' }).click();
  await page.waitForURL(/\/connect\?revoked=1/);
  assert.equal(await status(tokenRows(page, 'Tableau extract')), 'revoked');
  assert.equal(await sharesStatus(token), 401);
  // This browser still stands on its own token.
  assert.equal(await status(tokenRows(page, 'this browser')), 'active');
});

test('the create form works from the keyboard alone', async () => {
  const { page } = acme;
  await openConnect(page);
  const name = page.getByLabel('Token name');
  let reached = false;
  for (let i = 0; i < 150 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await name.evaluate((el) => el === document.activeElement);
  }
  assert.ok(reached, 'Tab reaches the "Token name" field');
  await page.keyboard.type('Keyboard token');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/connect\?issued=/);
  const token = await page.locator('#new-token').inputValue();
  assert.equal(await sharesStatus(token), 200);
  assert.deepEqual(await statuses(page, 'Keyboard token'), ['active']);
});

test('the Copy button puts the endpoint on the clipboard (a site script the page policy allows)', async () => {
  const context = await browser.newContext({ storageState: await acme.context.storageState(), viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: portal.base });
  const page = await context.newPage();
  await openConnect(page);
  const copy = page.locator('button[aria-controls=endpoint]');
  await copy.click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), endpoint);
  await context.close();
});

test('/connect fits a phone', async () => {
  const context = await browser.newContext({ storageState: await acme.context.storageState(), viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await openConnect(page);
  assert.equal(await page.locator('#endpoint').inputValue(), endpoint);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390 + 1, `page is ${width}px wide on a 390px phone`);
  await shot(page, 'connect-phone');
  await context.close();
  await acme.context.close();
});

test('a large view is prepared as a background job on /exports, for its recipient only', async () => {
  const { context, page } = await signedIn('acme_foods', 'browser tests');
  // The CLI's --name shows on /connect.
  await openConnect(page);
  assert.deepEqual(await statuses(page, 'browser tests'), ['active']);

  await page.goto(portal.base + '/shares/wholesale/commerce/sales?country=DE');
  await page.getByRole('heading', { name: 'sales', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Prepare CSV' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Excel (.xlsx)' }).count(), 0, 'no direct Excel download for a view this large');
  await page.getByRole('button', { name: 'Prepare Excel file' }).click();
  await page.waitForURL(/\/exports(\?|#|$)/);
  const jobs = page.getByTestId('jobs').locator('li[data-job-id]');
  assert.equal(await jobs.count(), 1);
  const job = jobs.first();
  assert.equal(await job.locator('progress').count(), 1, 'the job shows its progress');
  const id = await job.getAttribute('data-job-id');

  // The page refreshes itself until the file is ready.
  const link = page.locator(`li[data-job-id="${id}"]`).getByRole('link', { name: 'Download' });
  await link.waitFor({ timeout: 60000 });
  await shot(page, 'exports');
  const fileUrl = new URL(await link.getAttribute('href'), portal.base).href;
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.match(download.suggestedFilename(), /^sales_\d{4}-\d\d-\d\d_filtered\.xlsx$/);
  const zip = readFileSync(await download.path());
  assert.equal(zip.subarray(0, 2).toString(), 'PK', 'an xlsx is a zip');
  assert.ok(zip.includes('xl/workbook.xml'));

  // The JSON API tells the same story to this browser.
  const list = await (await context.request.get(portal.base + '/api/v1/exports')).json();
  assert.deepEqual(list.items.map((j) => String(j.id)), [id]);
  assert.equal(list.items[0].status, 'done');
  assert.equal(list.items[0].table, 'wholesale.commerce.sales');
  assert.equal(list.items[0].format, 'xlsx');

  // Another partner sees none of it.
  nordic = await activated('nordic_goods');
  const other = nordic.page;
  const resp = await other.goto(portal.base + '/exports');
  assert.equal(resp.status(), 200);
  assert.equal(await other.locator('li[data-job-id]').count(), 0);
  assert.match(await other.locator('main').innerText(), /\bno\b.*\b(exports?|jobs?|files?)\b/i, 'an empty state says there is nothing yet');
  assert.equal((await nordic.context.request.get(fileUrl)).status(), 404);
  assert.equal((await nordic.context.request.get(`${portal.base}/api/v1/exports/${id}`)).status(), 404);
  assert.deepEqual((await (await nordic.context.request.get(portal.base + '/api/v1/exports')).json()).items, []);
  await context.close();
});

test('the table page gives a ready Power Query for the view', async () => {
  const { context, page, profile } = await signedIn('acme_foods', 'power query tests');
  await page.goto(portal.base + '/shares/wholesale/commerce/sales?country=DE');
  await page.getByRole('heading', { name: 'sales', exact: true }).waitFor();
  const panel = page.locator('details[data-testid=power-query]');
  await panel.locator('summary').click();
  const box = page.locator('#power-query-m');
  await box.waitFor({ state: 'visible' });
  const m = await box.evaluate((e) => (e.tagName === 'TEXTAREA' ? e.value : e.textContent));
  const csvBase = `${portal.base}/api/v1/shares/wholesale/schemas/commerce/tables/sales/export.csv`;
  assert.match(m, /Web\.Contents/);
  assert.ok(m.includes(`"${csvBase}"`), 'the static base URL of the CSV export, without a query string');
  assert.match(m, /Query\s*=\s*\[[^\]]*country[^\]]*"DE"/s, 'the filter is in the Query record');
  assert.match(m, /_dialect"?\s*=\s*"plain"/);
  assert.match(m, /Authorization\s*=\s*"Bearer "\s*&\s*Token/);
  assert.match(m, /Token\s*=\s*"<paste your access token>"/);
  assert.ok(m.indexOf('Token =') < m.indexOf('Web.Contents'), 'the token is defined at the top');
  await shot(page, 'power-query');
  // The request the query makes answers with the view's rows.
  const resp = await fetch(`${csvBase}?country=DE&_dialect=plain`, { headers: { Authorization: `Bearer ${profile.bearerToken}` } });
  assert.equal(resp.status, 200);
  const lines = (await resp.text()).trim().split('\r\n');
  assert.ok(lines.length > 1 && lines[0].includes('country'));
  await context.close();
});

test('the recipient policy limits how many tokens a partner may hold', async () => {
  const out = portal.cli('recipient', 'policy', 'nordic_goods', '--max-token-days', '30', '--max-active-tokens', '2');
  assert.match(out, /max_token_days=30 max_active_tokens=2/);
  const { page } = nordic;
  await openConnect(page);
  assert.match(await page.locator('main').textContent(), /at most 2 active tokens, each valid (for )?up to 30 days/i);
  // The activation's token and this one make two.
  const token = await createToken(page, 'Spark job', 30);
  assert.equal(await sharesStatus(token), 200);
  await openConnect(page);
  await page.getByLabel('Token name').fill('One too many');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.waitForURL(/\/connect\?error=limit/);
  await page.getByRole('alert').filter({ hasText: /\b2 active tokens\b/ }).waitFor();
  assert.equal(await page.locator('#new-token').count(), 0);
  assert.equal(await tokenRows(page, 'One too many').count(), 0);
});

test('revoking the token this browser stands on signs it out', async () => {
  const { context, page, profile } = nordic;
  await openConnect(page);
  const row = tokenRows(page, 'this browser');
  await row.locator('summary', { hasText: 'Revoke' }).click();
  await row.getByRole('button', { name: 'Revoke this token' }).click();
  await page.waitForURL(/\/login/);
  await page.getByRole('heading', { name: 'Sign in to your data' }).waitFor();
  assert.equal(await sharesStatus(profile.bearerToken), 401);
  await page.goto(portal.base + '/connect');
  await page.waitForURL(/\/login\?next=/);
  await context.close();
});

test('a pipeline gets an OAuth client on /connect: the secret once, a version-2 profile, and it works', async () => {
  // The demo's link was spent by the first test: a fresh one.
  links.acme_foods = portal.cli('activation-link', 'acme_foods').trim().split('\n').pop().trim();
  const { context } = await activated('acme_foods');
  const page = await context.newPage();
  await openConnect(page);
  const section = page.locator('#pipelines');
  await section.getByText(/no OAuth clients yet/i).waitFor();
  await section.getByLabel('Pipeline name').fill('Nightly orders load');
  await section.getByRole('button', { name: 'Create OAuth client' }).click();
  await page.waitForURL(/\/connect\?client=/);
  const secret = await page.locator('#new-client-secret').inputValue();
  const clientId = await page.locator('#new-client-id').inputValue();
  assert.match(secret, /^dcs_/);
  assert.match(clientId, /^dsc_/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download pipeline.share' }).click()]);
  const profile = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.deepEqual(
    [profile.shareCredentialsVersion, profile.type, profile.clientId, profile.clientSecret, profile.tokenEndpoint, profile.endpoint],
    [2, 'oauth_client_credentials', clientId, secret, `${portal.base}/oauth/token`, endpoint],
  );
  await shot(page, 'connect-oauth-client');
  // The client's access token reads the partner's shares.
  const basic = Buffer.from(`${clientId}:${secret}`).toString('base64');
  const granted = await fetch(`${portal.base}/oauth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(granted.status, 200);
  assert.equal(await sharesStatus((await granted.json()).access_token), 200);
  // Shown once: a reload without the one-time id lists the client, not its secret.
  await openConnect(page);
  const row = section.locator(`tr[data-client-id="${clientId}"]`);
  await row.waitFor();
  assert.ok(!(await page.content()).includes(secret));
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.waitForURL(/\/connect\?revoked=client/);
  assert.match(await section.locator(`tr[data-client-id="${clientId}"]`).innerText(), /revoked/);
  await context.close();
});
