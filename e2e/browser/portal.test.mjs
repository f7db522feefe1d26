// The partner portal in a real browser, on the demo data: activation signs in, the catalog lists
// exactly the granted tables, and the table page filters, sorts, pages, hides and facets through
// its URL. Screenshots of every page go to e2e/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startPortal, launchBrowser, screenshotDir, grid, column, hydrated, takeCspViolations, describeCspViolations } from './portal.mjs';

let portal;
let browser;
let links;

before(async () => {
  mkdirSync(screenshotDir, { recursive: true });
  portal = await startPortal();
  const out = portal.cli('demo');
  links = Object.fromEntries([...out.matchAll(/^\s+(\w+) \(P\d+\): (\S+)$/gm)].map((m) => [m[1], m[2]]));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  portal?.stop();
});

const shot = (page, name) => page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

/// Polls until `check()` returns a truthy value (the page updates after client-side navigation).
async function until(check, what, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const rowCount = (page) => page.getByTestId('row-count').innerText();

/// A fresh `.share` profile: the CLI prints it, then the token's id on a line of its own.
function newProfile(recipient) {
  const out = portal.cli('token', 'create', recipient);
  return JSON.parse(out.slice(0, out.lastIndexOf('}') + 1));
}

/// Picks `item` from the header menu of `name`.
async function columnMenu(page, name, item) {
  await page.getByLabel(`Column ${name} menu`).click();
  await page.locator('th', { has: page.getByLabel(`Column ${name} menu`) }).getByRole('link', { name: item }).click();
}

/// A new browser context signed in as `recipient` with a fresh token, on the portal home.
async function signedIn(recipient, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(portal.base + '/login');
  await signInWithToken(page, newProfile(recipient).bearerToken);
  await page.getByRole('heading', { name: 'Your data' }).waitFor();
  return { context, page };
}

async function signInWithToken(page, token) {
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('activation signs the partner in; the table page filters, sorts, pages, hides and facets', async () => {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(links.acme_foods);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download credential file' }).click()]);
  assert.equal(download.suggestedFilename(), 'config.share');
  await page.getByRole('link', { name: 'continue to your data' }).click();
  await page.getByRole('heading', { name: 'Your data' }).waitFor();
  await page.getByText('Signed in as').waitFor();
  const tables = await page.locator('main ul a').allInnerTexts();
  assert.deepEqual(tables.sort(), ['returns', 'sales', 'stock'], 'exactly the granted tables');
  await shot(page, 'portal-home');

  // The search box narrows the list.
  await page.getByLabel('Search tables').fill('stock');
  await until(async () => (await page.locator('main ul a').allInnerTexts()).join() === 'stock', 'search to narrow');
  await page.getByLabel('Search tables').fill('');

  await page.getByRole('link', { name: 'sales', exact: true }).click();
  await page.getByRole('heading', { name: 'sales', exact: true }).waitFor();
  await page.getByText('Data dictionary · 10 columns').click();
  await page.getByRole('rowheader', { name: /updated_at/ }).waitFor();
  await page.getByText('Units sold; 0 for a cancelled line').waitFor();
  await shot(page, 'portal-table');
  const all = await rowCount(page);

  // Two filters, one after the other, through the builder.
  await page.getByLabel('Filter 1 column').selectOption('country');
  await page.getByLabel('Filter 1 operator').selectOption('exact');
  await page.getByLabel('Filter 1 value').fill('DE');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/country__exact=DE/);
  await page.getByLabel('Filter 2 column').selectOption('units');
  await page.getByLabel('Filter 2 operator').selectOption('gt');
  await page.getByLabel('Filter 2 value').fill('3');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/country__exact=DE&units__gt=3/);
  await page.getByText('where country = "DE" and units > 3', { exact: true }).waitFor();
  let g = await grid(page);
  assert.equal(g.rows.length, 100);
  assert.ok(column(g, 'country').every((c) => c === 'DE'));
  assert.ok(column(g, 'units').every((u) => Number(u) > 3));
  assert.ok(column(g, 'partner_id').every((p) => p === 'P001'), 'only the partner’s own rows');
  assert.notEqual(await rowCount(page), all);
  await shot(page, 'portal-filtered');

  // Sort by revenue, descending, from the column's menu.
  await columnMenu(page, 'revenue', 'Sort descending');
  await page.waitForURL(/_sort_desc=revenue/);
  g = await until(async () => {
    const g = await grid(page);
    return g.rows.length && column(g, 'revenue').every((v, i, a) => i === 0 || Number(a[i - 1]) >= Number(v)) ? g : null;
  }, 'rows sorted by revenue');
  const lastOfFirstPage = Number(column(g, 'revenue').at(-1));
  const firstPageIds = column(g, 'order_id');

  await page.getByRole('link', { name: 'Next page →' }).click();
  await page.waitForURL(/_next=/);
  g = await until(async () => {
    const g = await grid(page);
    return g.rows.length && column(g, 'order_id')[0] !== firstPageIds[0] ? g : null;
  }, 'the second page');
  assert.ok(Number(column(g, 'revenue')[0]) <= lastOfFirstPage, 'page 2 continues the order');
  assert.ok(column(g, 'order_id').every((id) => !firstPageIds.includes(id)), 'pages do not overlap');
  assert.ok(column(g, 'country').every((c) => c === 'DE'), 'filters kept across pages');

  // Hide a column.
  await columnMenu(page, 'sku', 'Hide this column');
  await page.waitForURL(/_nocol=sku/);
  g = await until(async () => {
    const g = await grid(page);
    return g.columns.length && !g.columns.includes('sku') ? g : null;
  }, 'sku to disappear');
  assert.equal(await page.locator('details[open]').count(), 0, 'the menu closed after the choice');
  assert.ok(g.columns.includes('product'));

  // Facet by product, then toggle one value on and off.
  await columnMenu(page, 'product', 'Facet by this');
  await page.waitForURL(/_facet=product/);
  const facet = page.getByRole('region', { name: 'Facet product' });
  await facet.waitFor();
  await shot(page, 'portal-facet');
  const first = facet.getByRole('link').nth(1);
  const [value, count] = (await first.innerText()).split('\n').map((s) => s.trim());
  const before = await rowCount(page);
  await first.click();
  await page.waitForURL(/product__exact=/);
  await until(async () => (await rowCount(page)) !== before, 'the count to follow the facet');
  assert.equal(await rowCount(page), `${count} row${count === '1' ? '' : 's'}`);
  g = await grid(page);
  assert.ok(column(g, 'product').every((p) => p === value));
  await facet.getByRole('link', { name: `✓ ${value}` }).click();
  await until(async () => !page.url().includes('product__exact'), 'the facet value to toggle off');
  await until(async () => (await rowCount(page)) === before, 'the count to come back');
  await shot(page, 'portal-facet-toggled');
  assert.deepEqual(errors, []);
  await context.close();
});

test('token sign-in comes back to the page asked for; file sign-in; sign-out', async () => {
  const profile = newProfile('nordic_goods');
  const context = await browser.newContext();
  const page = await context.newPage();
  const tablePath = '/shares/wholesale/commerce/sales?country__exact=SE';
  await page.goto(portal.base + tablePath);
  await page.waitForURL(/\/login\?next=/);
  await page.getByRole('heading', { name: 'Sign in to your data' }).waitFor();
  await shot(page, 'portal-login');

  await signInWithToken(page, 'dss_wrong');
  await page.getByText('That access token is not valid').waitFor();
  assert.ok(!page.url().includes('dss_'), 'tokens never travel in URLs');
  await shot(page, 'portal-login-error');

  await signInWithToken(page, profile.bearerToken);
  await page.waitForURL(portal.base + tablePath);
  const g = await grid(page);
  assert.ok(g.rows.length > 0 && column(g, 'partner_id').every((p) => p === 'P002'), 'nordic sees only its rows');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'portal_session');
  assert.ok(session.httpOnly && session.sameSite === 'Lax');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
  await page.goto(portal.base + '/');
  await page.waitForURL(/\/login/);

  // The credential file works as well as the token.
  const file = join(portal.dataDir, 'config.share');
  writeFileSync(file, JSON.stringify(profile));
  await page.getByLabel('Credential file').setInputFiles(file);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your data' }).waitFor();
  await context.close();
});

test("a recipient cannot open another recipient's table", async () => {
  const { context, page } = await signedIn('nordic_goods');
  // partner_program is granted to acme_foods only: same page as a table that does not exist.
  const resp = await page.goto(portal.base + '/shares/partner_program/analytics/returns');
  assert.equal(resp.status(), 404);
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
  await shot(page, 'portal-not-granted');
  const missing = await page.goto(portal.base + '/shares/nope/nope/nope');
  assert.equal(missing.status(), 404);
  await context.close();
});

test('the core flow works without JavaScript', async () => {
  const profile = newProfile('acme_foods');
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(portal.base + '/login');
  await signInWithToken(page, profile.bearerToken);
  await page.getByRole('heading', { name: 'Your data' }).waitFor();
  await page.getByRole('link', { name: 'sales', exact: true }).click();
  await page.getByLabel('Filter 1 column').selectOption('units');
  await page.getByLabel('Filter 1 operator').selectOption('gte');
  await page.getByLabel('Filter 1 value').fill('twenty');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  // A bad value is explained beside its filter, with a 400.
  await page.getByText('expected a whole number like 42, got `twenty`').waitFor();
  await shot(page, 'portal-bad-filter');
  await page.getByLabel('Filter 1 value').fill('20');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/units__gte=20/);
  const g = await grid(page);
  assert.ok(g.rows.length > 0 && column(g, 'units').every((u) => Number(u) >= 20));
  await context.close();
});

test('a filtered view downloads as Excel and as CSV for Excel', async () => {
  const { context, page } = await signedIn('acme_foods', { acceptDownloads: true });
  await page.goto(portal.base + '/shares/wholesale/commerce/sales?country=SE&_sort=order_id&_nocol=sku');
  const count = Number((await rowCount(page)).replace(/[^0-9]/g, ''));
  assert.match(await page.getByTestId('download-scope').innerText(), /rows where country = "SE"$/);
  await shot(page, 'portal-downloads');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV for Excel', exact: true }).click()]);
  assert.match(download.suggestedFilename(), /^sales_\d{4}-\d\d-\d\d_filtered\.csv$/);
  const text = readFileSync(await download.path(), 'utf8');
  assert.ok(text.startsWith('\ufeff'), 'Excel dialect starts with a BOM');
  const lines = text.trim().split('\r\n');
  assert.equal(lines.length, count + 1, 'one line per row of the view, plus the header');
  assert.ok(!lines[0].includes('sku') && lines[0].includes('country'));
  assert.ok(lines.slice(1).every((l) => l.split(',').includes('SE')));

  const [workbook] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Excel (.xlsx)' }).click()]);
  assert.match(workbook.suggestedFilename(), /^sales_\d{4}-\d\d-\d\d_filtered\.xlsx$/);
  const zip = readFileSync(await workbook.path());
  assert.equal(zip.subarray(0, 2).toString(), 'PK', 'an xlsx is a zip');
  for (const part of ['xl/workbook.xml', 'xl/worksheets/sheet1.xml', 'xl/worksheets/sheet2.xml']) {
    assert.ok(zip.includes(part), `${part} in the workbook`);
  }
  await context.close();
});

test('a chart of the view is drawn from the form and downloads as SVG and PNG', async () => {
  const { context, page } = await signedIn('acme_foods', { acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  await page.goto(portal.base + '/shares/wholesale/commerce/sales?units__gt=3');
  await hydrated(page);
  const panel = page.getByRole('region', { name: 'Chart this view' });
  await panel.getByLabel('Chart', { exact: true }).selectOption('bar');
  await panel.getByLabel('By (column)').selectOption('country');
  await panel.getByLabel('Measure').selectOption('sum');
  await panel.getByLabel('…this number').selectOption('revenue');
  await panel.getByRole('button', { name: 'Draw chart' }).click();
  await page.waitForURL(/_chart=bar/);
  const picture = panel.getByRole('img', { name: 'Sum of revenue by country' });
  await picture.waitFor();
  assert.ok(page.url().includes('units__gt=3'), 'the chart keeps the view');
  const bars = await picture.locator('rect[data-label]').evaluateAll((r) => r.map((e) => [e.dataset.label, Number(e.dataset.value)]));
  await panel.getByText("The chart's figures as a table").click();
  const table = await panel.getByTestId('chart-table').locator('tbody tr').evaluateAll((rows) => rows.map((tr) => tr.cells[0].innerText));
  assert.deepEqual(table, bars.map(([label]) => label), 'the table lists the bars, in order');
  await shot(page, 'portal-chart');

  const [svg] = await Promise.all([page.waitForEvent('download'), panel.getByRole('link', { name: 'Download the chart (SVG)' }).click()]);
  assert.equal(svg.suggestedFilename(), 'sales_chart.svg');
  assert.ok(readFileSync(await svg.path(), 'utf8').includes('Sum of revenue by country'));
  const [png] = await Promise.all([page.waitForEvent('download'), panel.getByRole('link', { name: 'Download the chart (PNG)' }).click()]);
  assert.equal(png.suggestedFilename(), 'sales_chart.png');
  const bytes = readFileSync(await png.path());
  assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
  assert.equal(bytes.readUInt32BE(16), 1440, 'twice the width of the SVG');
  await context.close();
});

test('the table page fits a phone', async () => {
  const { context, page } = await signedIn('acme_foods', { viewport: { width: 390, height: 844 } });
  await page.goto(portal.base + '/shares/wholesale/commerce/sales');
  await page.getByRole('heading', { name: 'sales', exact: true }).waitFor();
  // The grid scrolls sideways inside its box; the page itself does not.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
  await shot(page, 'portal-table-phone');
  await context.close();
});

test('the table page hydrates under its Content-Security-Policy: a fresh nonce per load, no violations', async () => {
  const { context, page } = await signedIn('acme_foods', { viewport: { width: 1280, height: 900 } });
  const url = portal.base + '/shares/wholesale/commerce/sales';
  const nonceOf = async (resp) => {
    const csp = resp.headers()['content-security-policy'];
    assert.ok(csp, 'the page sends a Content-Security-Policy');
    assert.ok(csp.includes("'nonce-"), csp);
    const nonce = csp.match(/'nonce-([^']+)'/)[1];
    // Chromium hides the nonce attribute from the DOM once parsed; the `nonce` property keeps it.
    const module = await page.evaluate(() => [...document.querySelectorAll('script[type=module]:not([src])')].map((s) => s.nonce));
    assert.ok(module.length > 0, 'an inline module script boots the hydration');
    assert.deepEqual([...new Set(module)], [nonce], 'the inline module script carries the header’s nonce');
    const html = await resp.text();
    const sent = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]).filter((tag) => !/\bsrc=/.test(tag));
    assert.ok(sent.every((tag) => tag.includes(`nonce="${nonce}"`)), `every inline script as sent has the nonce: ${sent.join(' ')}`);
    return nonce;
  };

  const first = await nonceOf(await page.goto(url));
  await hydrated(page);
  const second = await nonceOf(await page.reload());
  assert.notEqual(second, first, 'each response has its own nonce');
  await hydrated(page);

  // Client-side code runs: the column menu sorts through the router.
  await columnMenu(page, 'revenue', 'Sort descending');
  await page.waitForURL(/_sort_desc=revenue/);
  await until(async () => {
    const g = await grid(page);
    return g.rows.length && column(g, 'revenue').every((v, i, a) => i === 0 || Number(a[i - 1]) >= Number(v));
  }, 'rows sorted by revenue');
  let seen = await takeCspViolations();
  assert.deepEqual(seen, [], describeCspViolations(seen));

  // The check can fail: an inline script without the nonce is blocked and reported.
  await page.evaluate(() => {
    window.__ranWithoutNonce = false;
    const s = document.createElement('script');
    s.textContent = 'window.__ranWithoutNonce = true';
    document.body.appendChild(s);
  });
  const reported = [];
  await until(async () => {
    reported.push(...(await takeCspViolations()));
    return reported.some((v) => v.via === 'securitypolicyviolation') && reported.some((v) => v.via.startsWith('console'));
  }, 'the violation to be reported by the event and on the console');
  assert.equal(await page.evaluate(() => window.__ranWithoutNonce), false, 'the script did not run');
  const event = reported.find((v) => v.via === 'securitypolicyviolation');
  assert.equal(event.directive, 'script-src-elem');
  assert.equal(event.blockedURI, 'inline');
  assert.equal(event.page, page.url());
  const logged = reported.find((v) => v.via.startsWith('console')).text;
  // Chromium's wording changes between versions ("Refused to execute inline script because it violates…").
  assert.match(logged, /inline script.* violates the following Content Security Policy directive:? ["']script-src /);

  // With those cleared, more client-side code runs without any violation.
  await columnMenu(page, 'sku', 'Hide this column');
  await page.waitForURL(/_nocol=sku/);
  await until(async () => {
    const g = await grid(page);
    return g.columns.length && !g.columns.includes('sku');
  }, 'sku to disappear');
  seen = await takeCspViolations();
  assert.deepEqual(seen, [], describeCspViolations(seen));
  await context.close();
});

test('a partner saves a view, finds it on the home page, renames and deletes it', async () => {
  const { context, page } = await signedIn('acme_foods', { viewport: { width: 1280, height: 900 } });
  await page.goto(portal.base + '/shares/wholesale/commerce/sales?country=DE&_sort_desc=revenue&_nocol=sku');
  await hydrated(page);
  const rows = await rowCount(page);
  const section = page.locator('#saved-views');
  await section.getByText('Save this view (its filters, order and columns)').waitFor();
  await page.locator('#saved-view-name').fill('Germany by revenue');
  await section.getByRole('button', { name: 'Save this view' }).click();
  await page.getByText('The view was saved.').waitFor();
  const current = section.getByRole('link', { name: 'Germany by revenue' });
  assert.equal(await current.getAttribute('aria-current'), 'true');
  await section.getByText('You are looking at your saved view “Germany by revenue”.').waitFor();
  await shot(page, 'portal-saved-view-table');

  await page.goto(portal.base + '/');
  await page.getByRole('heading', { name: 'Your saved views' }).waitFor();
  await hydrated(page);
  await shot(page, 'portal-home-saved-views');
  await page.locator('#saved-views').getByRole('link', { name: 'Germany by revenue' }).click();
  await page.waitForURL(/country__exact=DE/);
  await until(async () => (await rowCount(page)) === rows, 'the saved view shows the rows of the view it saved');
  assert.deepEqual([...new Set(column(await grid(page), 'country'))], ['DE']);

  await page.goto(portal.base + '/');
  const home = page.locator('#saved-views');
  await home.locator('summary', { hasText: 'Rename' }).click();
  await home.getByLabel('New name').fill('DE top revenue');
  await home.locator('form[action$="/rename"]').getByRole('button', { name: 'Rename' }).click();
  await page.getByText('The saved view was renamed.').waitFor();
  await page.locator('#saved-views').getByRole('link', { name: 'DE top revenue' }).waitFor();
  await page.locator('#saved-views').getByRole('button', { name: 'Delete DE top revenue' }).click();
  await page.getByText('The saved view was deleted.').waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Your saved views' }).count(), 0);
  await context.close();
});

test('a saved view is scheduled for weekly delivery from the table page, and stopped', async () => {
  const { context, page } = await signedIn('nordic_goods', { viewport: { width: 1280, height: 900 } });
  await page.goto(portal.base + '/shares/wholesale/commerce/sales?country=SE');
  await hydrated(page);
  const section = page.locator('#saved-views');
  await page.locator('#saved-view-name').fill('Sweden weekly');
  await section.getByRole('button', { name: 'Save this view' }).click();
  await page.getByText('The view was saved.').waitFor();
  await hydrated(page);
  await section.locator('summary', { hasText: 'Deliver' }).click();
  await section.getByLabel('When').selectOption('weekly');
  await section.getByLabel('Day (weekly)').selectOption('wednesday');
  await section.getByLabel('Hour (UTC)').selectOption('7');
  await section.getByLabel('What').selectOption('changes');
  await section.getByLabel('As').selectOption('csv');
  await section.getByRole('button', { name: 'Schedule delivery' }).click();
  await page.getByText('The delivery is scheduled.').waitFor();
  await section.getByText('Delivered: Every Wednesday at 07:00 UTC: the changes since the last delivery, as CSV').waitFor();
  await shot(page, 'portal-saved-view-delivery');
  // The form opens with what is scheduled.
  await section.locator('summary', { hasText: 'Delivery' }).click();
  assert.equal(await section.getByLabel('Day (weekly)').inputValue(), 'wednesday');
  assert.equal(await section.getByLabel('Hour (UTC)').inputValue(), '7');
  await section.getByRole('button', { name: 'Stop delivery of Sweden weekly' }).click();
  await page.getByText('The delivery was stopped.').waitFor();
  assert.equal(await section.getByText('Delivered:').count(), 0);
  await context.close();
});

/// Runs the project's Python (delta-rs) to write the test's own Delta table: `create` or `append`.
function ordersTable(dir, step) {
  const python = join(import.meta.dirname, '../../.venv/bin/python');
  const script = `
import sys, pyarrow as pa
from deltalake import write_deltalake
where, step = sys.argv[1], sys.argv[2]
def rows(p, ids): return pa.table({"partner_id": pa.array([p] * len(ids)), "id": pa.array(ids, pa.int64())})
if step == "create":
    write_deltalake(where, pa.concat_tables([rows("P001", [1, 2, 3]), rows("P002", [1])]), partition_by=["partner_id"],
                    configuration={"delta.enableChangeDataFeed": "true"})
else:
    write_deltalake(where, pa.concat_tables([rows("P001", [4]), rows("P002", [9])]), mode="append")
`;
  execFileSync(python, ['-c', script, dir, step]);
}

test('since my last download: a saved view offers exactly the rows added since', async () => {
  const dir = join(portal.dataDir, 'orders_feed');
  ordersTable(dir, 'create');
  portal.cli('share', 'create', 'orders_feed');
  portal.cli('table', 'add', 'orders_feed.s.orders', '--location', dir, '--history', '--scope', 'partner_id=partner_id');
  portal.cli('recipient', 'create', 'feed_partner', '--property', 'partner_id=P001');
  portal.cli('grant', 'orders_feed', 'feed_partner');
  const { context, page } = await signedIn('feed_partner', { acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  await page.goto(portal.base + '/shares/orders_feed/s/orders?_sort=id');
  await page.locator('#saved-view-name').fill('My orders');
  await page.locator('#saved-views').getByRole('button', { name: 'Save this view' }).click();
  await page.getByText('The view was saved.').waitFor();
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV', exact: true }).click()]);
  assert.equal(readFileSync(await file.path(), 'utf8').trim().split('\n').length, 4, 'the three rows of P001 and a header');

  await page.reload();
  await page.getByTestId('since-download').getByText('You downloaded this view at the latest version (0)').waitFor();
  ordersTable(dir, 'append');
  await page.reload();
  const offer = page.getByTestId('since-download');
  await offer.getByText('New since your last download (version 0').waitFor();
  await shot(page, 'portal-since-last-download');
  await offer.getByRole('link', { name: 'Show the changes since version 0' }).click();
  await page.waitForURL(/_since=0/);
  await page.getByText('You are looking at the rows changed after version 0').waitFor();
  assert.equal(await rowCount(page), '1 row');
  const g = await grid(page);
  assert.deepEqual(column(g, 'id'), ['4']);
  assert.deepEqual(column(g, '_change_type'), ['insert']);
  await shot(page, 'portal-changes-since');
  const [changes] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Excel (.xlsx)' }).click()]);
  assert.match(changes.suggestedFilename(), /^orders_\d{4}-\d\d-\d\d_changes_v1-v1\.xlsx$/);
  await context.close();
});
