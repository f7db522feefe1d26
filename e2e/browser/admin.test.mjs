// The admin console in a real browser, signed in through a real OpenID provider (e2e/oidc):
// onboarding a partner with the wizard, the partner activating and reading, token rotation and
// revocation, the audit log, team scoping, refusal of non-admins, partner single sign-on, and
// the console without JavaScript. Screenshots of every console page go to e2e/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortal, launchBrowser, screenshotDir, freePort, grid, column, hydrated } from './portal.mjs';
import { startProvider } from '../oidc/start.mjs';

const SHARE = 'retail_feed';
const RECIPIENT = 'bistro_chain';
const PARTNER_ID = 'P003'; // in the demo sales data, but no demo recipient has it

let portal;
let provider;
let browser;
let admin; // { context, page } of the platform admin, kept across tests
let firstLink; // the activation link the wizard created
let firstToken; // the bearer token of the partner's first credential file
const adminErrors = []; // script and hydration errors on the admin's console pages

before(async () => {
  mkdirSync(screenshotDir, { recursive: true });
  const port = await freePort();
  const clientId = 'portal-e2e';
  const clientSecret = 'e2e-secret-0123456789';
  provider = await startProvider({ clientId, clientSecret, redirectUris: [`http://127.0.0.1:${port}/auth/oidc/callback`] });
  portal = await startPortal(
    {
      PORTAL_OIDC_ISSUER: provider.issuer,
      PORTAL_OIDC_CLIENT_ID: clientId,
      PORTAL_OIDC_CLIENT_SECRET: clientSecret,
      PORTAL_OIDC_SCOPES: 'openid email profile groups',
    },
    { port },
  );
  portal.cli('demo');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  portal?.stop();
  await provider?.stop();
});

const shot = (page, name) => page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

/// At the provider's login form: any password works; no consent page follows.
async function providerSignIn(page, login) {
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any-password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

/// Follows a single sign-on link to the provider by its address (as opening it in a new tab
/// would). Clicking it is checked on its own, in 'links that leave the app work when clicked…'.
async function followSsoLink(page, link) {
  const href = await link.getAttribute('href');
  assert.match(href, /^\/auth\/oidc\/start\?as=(admin|partner)(&idp=\d+)?&next=/);
  await page.goto(portal.base + href);
  await page.waitForURL((u) => u.origin === provider.issuer);
}

/// A fresh browser context (the provider remembers who signed in) through the console's sign-in page.
async function adminSignIn(login, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(portal.base + '/admin/login');
  await followSsoLink(page, page.getByRole('link', { name: 'Sign in with single sign-on' }));
  await providerSignIn(page, login);
  return { context, page };
}

/// Opens an activation link in a fresh context, downloads the credential file, and returns the
/// profile with the context and page (signed in to the portal).
async function activate(link) {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('heading', { name: `Credentials for ${RECIPIENT}` }).waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download credential file' }).click()]);
  assert.equal(download.suggestedFilename(), 'config.share');
  const profile = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.match(profile.bearerToken, /^dss_/);
  return { context, page, profile };
}

/// The status of `GET /delta-sharing/shares` with a bearer token.
async function sharesStatus(token) {
  const resp = await fetch(portal.base + '/delta-sharing/shares', { headers: { Authorization: `Bearer ${token}` } });
  return resp.status;
}

/// The new activation link shown after a form (once), from its read-only field.
async function issuedLink(page) {
  const field = page.locator('input#activation-url');
  await field.waitFor();
  const url = await field.inputValue();
  assert.match(url, new RegExp(`^${portal.base.replace(/[.]/g, '\\.')}/activate/\\S+$`));
  return url;
}

test('an admin signs in through the identity provider and lands on the console', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && /hydrat|panicked/.test(m.text()) && errors.push(m.text()));
  await page.goto(portal.base + '/admin/login');
  await page.getByRole('heading', { name: 'Admin console' }).waitFor();
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).waitFor();
  await hydrated(page);
  await shot(page, 'admin-login');
  const loginErrors = [...errors];
  await followSsoLink(page, page.getByRole('link', { name: 'Sign in with single sign-on' }));
  await providerSignIn(page, 'admin@retailer.example');
  await page.waitForURL(portal.base + '/admin');
  await page.getByRole('heading', { name: 'Partners', exact: true }).waitFor();
  await page.getByText('admin:admin@retailer.example · all teams').waitFor();
  // The demo's recipients are listed, with their status.
  const recipients = await page.locator('#recipients tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(recipients.sort(), ['acme_foods', 'nordic_goods']);
  const cookie = (await context.cookies()).find((c) => c.name === 'portal_admin');
  assert.ok(cookie?.httpOnly, 'the admin session cookie is httpOnly');
  await shot(page, 'admin-overview');
  admin = { context, page };
  // Every console page the admin opens from here on must hydrate cleanly (checked at the end).
  context.on('weberror', (e) => adminErrors.push(`${e.page()?.url()}: ${e.error().message}`));
  context.on('console', (m) => {
    if (m.type() === 'error' && /hydrat|panicked/.test(m.text())) adminErrors.push(`${m.page()?.url()}: ${m.text().split('\n')[0]}`);
  });
  assert.deepEqual(loginErrors, [], 'the sign-in page hydrates without errors');
});

test('the wizard onboards a partner: share, table, recipient, grant, activation link', async () => {
  const { page } = admin;
  await page.getByRole('link', { name: 'Onboard a partner' }).first().click();
  await page.waitForURL(/\/admin\/onboard/);
  await page.getByRole('heading', { name: 'Onboard a partner' }).waitFor();
  await page.getByLabel('Existing share').waitFor();
  await shot(page, 'admin-onboard-1');

  // 1. A new share.
  await page.getByLabel('New share name').fill(SHARE);
  await page.getByRole('button', { name: 'Create share and continue' }).click();
  await page.waitForURL(/step=2/);
  await page.getByRole('heading', { name: `2. Tables of ${SHARE}` }).waitFor();

  // 2. The demo sales table by its location, scoped to the partner's rows.
  await page.getByLabel('Schema', { exact: true }).fill('commerce');
  await page.getByLabel('Table name').fill('sales');
  await page.getByLabel(/^Location/).fill(join(portal.dataDir, 'demo', 'sales'));
  await page.getByLabel(/^Row scope/).fill('partner_id=partner_id');
  await page.getByRole('button', { name: 'Add table' }).click();
  await page.getByText(/^Added commerce\.sales \(\d+ columns:/).waitFor();
  const step = page.locator('#step');
  await step.getByText('commerce.sales', { exact: true }).waitFor();
  const card = await step.locator('ul li').first().innerText();
  for (const col of ['order_id', 'partner_id', 'country', 'units', 'revenue']) {
    assert.match(card, new RegExp(`\\b${col} \\w+`), `the schema shows ${col} with its type`);
  }
  assert.match(card, /rows where partner_id=partner_id/);
  await shot(page, 'admin-onboard-2');
  await page.getByRole('link', { name: 'Continue to the recipient' }).click();
  await page.waitForURL(/step=3/);

  // 3. A new recipient with its partner_id.
  await page.getByRole('heading', { name: '3. Recipient' }).waitFor();
  await page.getByLabel('Recipient name').fill(RECIPIENT);
  await page.getByLabel(/^Properties/).fill(`partner_id=${PARTNER_ID}\ntier=small`);
  await shot(page, 'admin-onboard-3');
  await page.getByRole('button', { name: 'Create recipient and continue' }).click();
  await page.waitForURL(/step=4/);

  // 4. The grant.
  await page.getByRole('heading', { name: '4. Grant' }).waitFor();
  await shot(page, 'admin-onboard-4');
  await page.getByRole('button', { name: `Grant ${SHARE} to ${RECIPIENT}` }).click();
  await page.waitForURL(/step=5/);

  // 5. The activation link, and what the partner will see.
  await page.getByRole('heading', { name: '5. Activation link' }).waitFor();
  await page.getByRole('button', { name: 'Create activation link' }).click();
  await page.waitForURL(/issued=/);
  firstLink = await issuedLink(page);
  const sees = page.getByRole('region', { name: `What ${RECIPIENT} will see` });
  await sees.waitFor();
  const seen = await sees.innerText();
  assert.match(seen, new RegExp(SHARE));
  assert.deepEqual(await sees.locator('ul ul li').allInnerTexts(), ['commerce.sales']);
  await shot(page, 'admin-onboard-5');

  // The share's own page shows the table, its schema and the grant.
  await page.goto(`${portal.base}/admin/shares/${SHARE}`);
  await page.getByRole('heading', { name: SHARE, exact: true }).waitFor();
  await page.locator('#grants').getByRole('link', { name: RECIPIENT }).waitFor();

  // What recipients read about the share (Get Share): a display name and properties.
  const about = page.locator('#about');
  await about.getByLabel('Display name (tools show it instead of the name)').fill('Sales for partners');
  await about.getByLabel('Property 1 name').fill('owner');
  await about.getByLabel('Property 1 value').fill('partner-data');
  await about.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved what recipients read about the share.').waitFor();
  assert.equal(await page.locator('#about').getByLabel('Display name (tools show it instead of the name)').inputValue(), 'Sales for partners');
  assert.equal(await page.locator('#about').getByLabel('Property 1 value').inputValue(), 'partner-data');
  await shot(page, 'admin-share');

  // Preview the table as the recipient sees it: only its partner_id.
  await page.locator('#tables').getByLabel('Preview as').selectOption(RECIPIENT);
  await page.locator('#tables').getByRole('button', { name: 'Preview rows' }).click();
  await page.getByRole('heading', { name: `${SHARE}.commerce.sales as ${RECIPIENT} sees it` }).waitFor();
  const preview = await page.locator('#rows table').evaluate((t) => {
    const columns = [...t.querySelectorAll('thead th')].map((th) => th.innerText.trim());
    const rows = [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim()));
    return { columns, rows };
  });
  assert.ok(preview.rows.length > 0, 'the preview has rows');
  assert.ok(column(preview, 'partner_id').every((p) => p === PARTNER_ID), `preview shows only ${PARTNER_ID}: ${[...new Set(column(preview, 'partner_id'))]}`);
  await page.getByText(/^[\d,]+ rows for this recipient/).waitFor();
  await shot(page, 'admin-preview');
});

test('the partner activates, sees exactly the granted table, its own rows, and downloads Excel', async () => {
  const { context, page, profile } = await activate(firstLink);
  assert.equal(profile.endpoint, portal.base + '/delta-sharing');
  firstToken = profile.bearerToken;
  assert.equal(await sharesStatus(firstToken), 200);

  await page.getByRole('link', { name: 'continue to your data' }).click();
  await page.getByRole('heading', { name: 'Your data' }).waitFor();
  assert.deepEqual(await page.locator('main ul a').allInnerTexts(), ['sales'], 'exactly the granted table');
  await page.getByRole('link', { name: 'sales', exact: true }).click();
  await page.getByRole('heading', { name: 'sales', exact: true }).waitFor();
  await page.locator('[data-testid=rows] tbody tr').first().waitFor();
  const g = await grid(page);
  assert.ok(g.rows.length > 0);
  assert.ok(column(g, 'partner_id').every((p) => p === PARTNER_ID), `only ${PARTNER_ID}'s rows: ${[...new Set(column(g, 'partner_id'))]}`);

  const [workbook] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Excel (.xlsx)' }).click()]);
  assert.match(workbook.suggestedFilename(), /^sales_\d{4}-\d\d-\d\d\.xlsx$/);
  const zip = readFileSync(await workbook.path());
  assert.equal(zip.subarray(0, 2).toString(), 'PK', 'an xlsx is a zip');
  await context.close();
});

test('rotation keeps old tokens for the overlap, then stops them; a revoked token stops at once', async () => {
  const { page } = admin;
  const recipientPage = `${portal.base}/admin/recipients/${RECIPIENT}`;
  await page.goto(recipientPage);
  await page.getByRole('heading', { name: new RegExp(`^${RECIPIENT}`) }).waitFor();

  // With an hour's overlap the partner's current token keeps working.
  await page.getByLabel('Old tokens keep working for').selectOption({ label: '1 hour' });
  await page.getByRole('button', { name: 'Rotate tokens' }).click();
  await page.waitForURL(/issued=/);
  const overlapLink = await issuedLink(page);
  assert.notEqual(overlapLink, firstLink);
  await page.getByText(/The partner's current tokens stop working at/).waitFor();
  await shot(page, 'admin-recipient');
  assert.equal(await sharesStatus(firstToken), 200, 'old token works during the overlap');

  // With no overlap it stops now.
  const shownOnce = page.url();
  await page.getByLabel('Old tokens keep working for').selectOption({ label: 'no time (stop now)' });
  await page.getByRole('button', { name: 'Rotate tokens' }).click();
  await page.waitForURL((u) => u.searchParams.has('issued') && u.href !== shownOnce);
  const rotatedLink = await issuedLink(page);
  assert.notEqual(rotatedLink, overlapLink);
  assert.equal(await sharesStatus(firstToken), 401, 'old token stops after a rotation without overlap');

  // The partner activates the new link; then the admin revokes that token.
  const partner = await activate(rotatedLink);
  const newToken = partner.profile.bearerToken;
  assert.notEqual(newToken, firstToken);
  assert.equal(await sharesStatus(newToken), 200);
  await partner.context.close();

  await page.goto(recipientPage);
  const revoke = page.getByRole('button', { name: /^Revoke token / });
  assert.equal(await revoke.count(), 1, 'one active token: the new one');
  await revoke.click();
  await page.getByText(/^Token \S+ revoked: it no longer works\.$/).waitFor();
  assert.equal(await page.getByRole('button', { name: /^Revoke token / }).count(), 0);
  assert.equal(await sharesStatus(newToken), 401, 'revoked token refused');
});

test('the audit log shows the partner’s reads and the admin’s actions, and downloads as CSV', async () => {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  await context.addCookies(await admin.context.cookies());
  const page = await context.newPage();
  await page.goto(portal.base + '/admin/audit');
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  await page.getByLabel('Recipient').fill(RECIPIENT);
  await page.getByRole('button', { name: 'Show events' }).click();
  await page.waitForURL(new RegExp(`recipient=${RECIPIENT}`));
  await page.getByRole('heading', { name: /events \(newest first\)/ }).waitFor();
  const events = await page.locator('#events tbody tr').evaluateAll((rows) =>
    rows.map((tr) => {
      const td = [...tr.querySelectorAll('td')].map((c) => c.innerText.trim());
      return { actor: td[1], action: td[2], object: td[3], status: td[4] };
    }),
  );
  const by = (actor) => new Set(events.filter((e) => e.actor === actor).map((e) => e.action));
  const partnerActions = by(`recipient:${RECIPIENT}`);
  for (const action of ['portal.preview', 'export.xlsx']) {
    assert.ok(partnerActions.has(action), `partner action ${action} in ${[...partnerActions]}`);
  }
  const adminActions = by('admin:admin@retailer.example');
  for (const action of ['admin.createRecipient', 'admin.grant', 'admin.createActivationLink', 'admin.rotateTokens', 'admin.revokeToken']) {
    assert.ok(adminActions.has(action), `admin action ${action} in ${[...adminActions]}`);
  }
  const otherRecipients = events.filter((e) => /^recipient:/.test(e.actor) && e.actor !== `recipient:${RECIPIENT}`);
  assert.deepEqual(otherRecipients, [], 'the filter keeps only this recipient');
  await shot(page, 'admin-audit');

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
  assert.match(csv.suggestedFilename(), /\.csv$/);
  const text = readFileSync(await csv.path(), 'utf8');
  assert.ok(text.startsWith('at,actor,action,'), text.slice(0, 80));
  assert.ok(text.includes('admin.rotateTokens') && text.includes(`recipient:${RECIPIENT}`));
  await context.close();
});

test("usage charts show the partner's reads per day on its page and the overview", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies(await admin.context.cookies());
  const page = await context.newPage();
  await page.goto(portal.base + `/admin/recipients/${RECIPIENT}`);
  const usage = page.getByRole('region', { name: 'Usage, last 30 days' });
  await usage.waitFor();
  const charts = usage.getByRole('img');
  const titles = await charts.evaluateAll((svgs) => svgs.map((s) => s.querySelector('title').textContent));
  assert.equal(titles.length, 4, titles.join(' | '));
  assert.deepEqual([titles[0], titles[1], titles[3]], ['Reads per day', 'Rows read per day', 'Refused sign-ins per day']);
  assert.match(titles[2], /^Data read \((bytes|KB|MB)\) per day$/);
  const bars = await charts.first().locator('rect[data-value]').evaluateAll((rects) => rects.map((r) => Number(r.dataset.value)));
  assert.equal(bars.length, 30, 'a bar a day');
  // The partner previewed the table and downloaded Excel today (the test above).
  assert.ok(bars[29] >= 2 && bars.slice(0, 29).every((v) => v === 0), `today's reads: ${bars.slice(-3)}`);
  await usage.getByText('The figures per day as a table').click();
  const today = new Date().toISOString().slice(0, 10);
  const row = usage.getByRole('row', { name: new RegExp(`^${today} `) });
  assert.equal(await row.getByRole('cell').nth(1).innerText(), String(bars[29]));
  await shot(page, 'admin-recipient-usage');

  await page.goto(portal.base + '/admin');
  await page.getByRole('region', { name: 'Usage, last 30 days' }).getByRole('img', { name: 'Reads per day' }).waitFor();
  await shot(page, 'admin-overview-usage');
  await context.close();
});

test('the teams page lists teams and API tokens', async () => {
  portal.cli('team', 'create', 'north');
  const { page } = admin;
  await page.goto(portal.base + '/admin/teams');
  await page.getByRole('heading', { name: 'Teams and API tokens' }).waitFor();
  const teams = await page.locator('#teams li').allInnerTexts();
  assert.ok(teams.some((t) => t.startsWith('default')) && teams.some((t) => t.startsWith('north')), teams.join(' | '));
  await page.getByLabel('Token name (what uses it)').fill('nightly-sync');
  await page.getByRole('button', { name: 'Create API token' }).click();
  await page.waitForURL(/issued=/);
  assert.match(await page.locator('input#api-token').inputValue(), /^dsa_/);
  await shot(page, 'admin-teams');
});

test('a team admin sees only their team; a person without admin rights is refused', async () => {
  const north = await adminSignIn('north@retailer.example');
  await north.page.waitForURL(portal.base + '/admin');
  await north.page.getByText('admin:north@retailer.example · team north').waitFor();
  await north.page.getByText('No recipients yet.').waitFor();
  await north.page.getByText('No shares yet.').waitFor();
  const resp = await north.page.goto(`${portal.base}/admin/recipients/${RECIPIENT}`);
  assert.equal(resp.status(), 404);
  await north.page.getByRole('heading', { name: 'Not found' }).waitFor();
  assert.ok(!(await north.page.content()).includes('Rotate tokens'));
  await shot(north.page, 'admin-team-not-found');
  // Same words as a recipient that does not exist.
  const missing = await north.page.goto(`${portal.base}/admin/recipients/no_such_recipient`);
  assert.equal(resp.status(), missing.status(), 'another team’s recipient answers like a missing one');
  await north.context.close();

  const nobody = await adminSignIn('nobody@retailer.example');
  await nobody.page.waitForURL(portal.base + '/admin/login?error=not_admin');
  await nobody.page.getByText('Your account signed in, but it has no admin rights in the portal.').waitFor();
  await shot(nobody.page, 'admin-not-admin');
  assert.equal((await nobody.context.cookies()).filter((c) => c.name === 'portal_admin' && c.value).length, 0);
  // The console still sends this browser to the sign-in page.
  await nobody.page.goto(portal.base + '/admin');
  await nobody.page.waitForURL(portal.base + '/admin/login');
  assert.equal(await nobody.page.getByRole('heading', { name: 'Partners', exact: true }).count(), 0);
  await nobody.context.close();
});

test('locations: a team admin adds tables only under a location granted to the team', async () => {
  // North (made by the teams test) has no location yet: the demo's tables are out of reach.
  const north = await adminSignIn('north@retailer.example');
  await north.page.waitForURL(portal.base + '/admin');
  await north.page.getByLabel('Share name').fill('north_lake_share');
  await north.page.getByRole('button', { name: 'Create share' }).click();
  await north.page.waitForURL(portal.base + '/admin/shares/north_lake_share');
  await north.page.getByText('No location is granted to your team yet').waitFor();
  const sales = join(portal.dataDir, 'demo', 'sales');
  const addTable = async () => {
    await north.page.getByLabel('Schema', { exact: true }).fill('commerce');
    await north.page.getByLabel('Table name').fill('sales');
    await north.page.getByLabel(/^Location/).fill(sales);
    await north.page.getByRole('button', { name: 'Add table' }).click();
  };
  await addTable();
  const refusal = `no location of team north contains \`${sales}\``;
  await north.page.locator('#location-error').getByText(refusal, { exact: false }).waitFor();
  await north.page.getByRole('alert').getByText(refusal, { exact: false }).waitFor();
  assert.equal(await north.page.getByText('commerce.sales', { exact: true }).count(), 0, 'nothing was added');
  await shot(north.page, 'admin-location-refused');

  // The platform admin grants the demo location to north on the Locations page.
  const { page } = admin;
  await page.goto(portal.base + '/admin');
  await page.getByRole('link', { name: 'Locations', exact: true }).click();
  await page.waitForURL(portal.base + '/admin/locations');
  await page.getByRole('heading', { name: 'Locations', level: 1 }).waitFor();
  const demo = page.locator('#locations li').filter({ hasText: join(portal.dataDir, 'demo') });
  await demo.getByText('teams: default').waitFor();
  await demo.getByLabel('Grant to team').selectOption('north');
  await demo.getByRole('button', { name: 'Grant' }).click();
  await page.getByText('Team north can now add tables under demo.').waitFor();
  await page.locator('#locations li').filter({ hasText: 'teams: default, north' }).waitFor();
  await shot(page, 'admin-locations');

  await north.page.reload();
  await north.page.getByText(/^Under a location of your team: /).waitFor();
  await addTable();
  await north.page.getByText(/^Added commerce\.sales/).waitFor();
  await north.page.getByText('In location demo').waitFor();
  await north.page.goto(portal.base + '/admin/locations');
  await north.page.getByText('Your team may add tables only under these locations.').waitFor();
  assert.equal(await north.page.getByRole('button', { name: 'Create location' }).count(), 0, 'team admins create no locations');
  await shot(north.page, 'admin-locations-team');
  await north.context.close();
});

test("a partner's employee signs in with their company account", async () => {
  const { page } = admin;
  await page.goto(`${portal.base}/admin/recipients/${RECIPIENT}`);
  const details = page.locator('#details');
  await details.getByLabel('Issuer URL').fill(provider.issuer);
  await details.getByLabel('Email domain').fill('acme.example');
  await details.getByRole('button', { name: 'Save recipient' }).click();
  await page.getByText('Recipient saved.').waitFor();
  assert.equal(await page.locator('#oidc-issuer').inputValue(), provider.issuer);
  // The properties survived the edit.
  assert.equal(await page.locator('#prop-value-0').inputValue(), PARTNER_ID);

  const context = await browser.newContext();
  const partner = await context.newPage();
  await partner.goto(portal.base + '/login');
  const sso = partner.getByRole('link', { name: 'Sign in with your company account' });
  await sso.waitFor({ timeout: 5000 }).catch(() => {
    throw new Error('no "Sign in with your company account" link on /login');
  });
  await followSsoLink(partner, sso);
  await providerSignIn(partner, 'buyer@acme.example');
  await partner.waitForURL(portal.base + '/');
  await partner.getByRole('heading', { name: 'Your data' }).waitFor();
  assert.deepEqual(await partner.locator('main ul a').allInnerTexts(), ['sales']);
  await shot(partner, 'admin-partner-sso-home');
  await context.close();
});

test('links that leave the app work when clicked on a hydrated page', async () => {
  const failures = [];
  /// Opens `path`, waits for hydration, presses `target`, and waits for `arrived(page)` to hold.
  async function check(page, path, target, arrived, what) {
    const errors = [];
    const onError = (e) => errors.push(e.message);
    const onConsole = (m) => m.type() === 'error' && errors.push(m.text().split('\n')[0]);
    page.on('pageerror', onError);
    page.on('console', onConsole);
    await page.goto(portal.base + path);
    const ok = await hydrated(page).then(() => true, () => false);
    page.off('pageerror', onError);
    page.off('console', onConsole);
    const name = `admin-click${path.split('?')[0].replaceAll('/', '-')}`;
    if (!ok) {
      await shot(page, name);
      failures.push(`${path} never hydrated (the client-side router never took a click): ${errors.join(' | ')}`);
      return;
    }
    await target(page).click();
    const end = Date.now() + 10000;
    while (!(await arrived(page).catch(() => false))) {
      if (Date.now() > end) {
        await shot(page, name);
        const text = (await page.locator('body').innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 120);
        failures.push(`${what} on ${path}: the browser is at ${page.url()} showing "${text}"`);
        return;
      }
      await page.waitForTimeout(200);
    }
  }

  for (const [path, name] of [['/admin/login', 'Sign in with single sign-on'], ['/login', 'Sign in with your company account']]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const atProvider = async (p) => new URL(p.url()).origin === provider.issuer && (await p.locator('input[name=login]').count()) === 1;
    await check(page, path, (p) => p.getByRole('link', { name }), atProvider, `clicking "${name}" (should open the identity provider's sign-in)`);
    await context.close();
  }

  const page = await admin.context.newPage();
  const body = (p) => p.locator('body').innerText();
  const openapi = async (p) => new URL(p.url()).pathname === '/api/v1/openapi.json' && /"openapi"\s*:\s*"3\.1/.test(await body(p));
  await check(page, '/admin/teams', (p) => p.getByRole('link', { name: '/api/v1/openapi.json' }), openapi, 'clicking the /api/v1/openapi.json link');
  await page.close();
  assert.deepEqual(failures, []);
});

test('the console fits a phone', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await context.addCookies(await admin.context.cookies());
  const page = await context.newPage();
  await page.goto(portal.base + '/admin');
  await page.getByRole('heading', { name: 'Partners', exact: true }).waitFor();
  await shot(page, 'admin-phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
  await context.close();
});

test('without JavaScript: a one-time link signs in and a share is created', async () => {
  const link = portal.cli('admin', 'login-link').trim().split('\n').at(-1).trim();
  assert.match(link, new RegExp(`^${portal.base.replace(/[.]/g, '\\.')}/admin/login/\\S+$`));
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(link);
  await page.getByText('platform administrator (all teams)').waitFor();
  await page.getByRole('button', { name: 'Sign in as administrator' }).click();
  await page.waitForURL(portal.base + '/admin');
  await page.getByText('admin:login-link · all teams').waitFor();
  await page.getByLabel('Share name').fill('nojs_share');
  await page.getByRole('button', { name: 'Create share' }).click();
  await page.waitForURL(portal.base + '/admin/shares/nojs_share');
  await page.getByRole('heading', { name: 'nojs_share', exact: true }).waitFor();
  // The link works once.
  const again = await page.goto(link);
  assert.equal(again.status(), 410);
  await page.getByRole('heading', { name: 'Link already used' }).waitFor();
  await context.close();
});

test("pipelines on a recipient's page: an OAuth client shown once, a federation policy checked and listed", async () => {
  const { page } = admin;
  await page.goto(`${portal.base}/admin/recipients/${RECIPIENT}`);
  const pipelines = page.locator('#pipelines');
  await pipelines.getByLabel('Pipeline name').fill('Warehouse sync');
  await pipelines.getByRole('button', { name: 'Create OAuth client' }).click();
  await page.waitForURL(/issued=/);
  const profile = JSON.parse(await page.locator('#new-client-profile').inputValue());
  assert.equal(profile.type, 'oauth_client_credentials');
  assert.match(profile.clientSecret, /^dcs_/);
  const row = pipelines.getByRole('row', { name: /Warehouse sync/ });
  await row.waitFor();
  // A new secret: shown once like the first; the client id stays.
  const first = page.url();
  await row.getByRole('button', { name: /^New secret for OAuth client/ }).click();
  await page.waitForURL((u) => u.searchParams.has('issued') && u.href !== first);
  const rotated = JSON.parse(await page.locator('#new-client-profile').inputValue());
  assert.equal(rotated.clientId, profile.clientId);
  assert.notEqual(rotated.clientSecret, profile.clientSecret);
  // An issuer that is not https is refused beside its field; nothing is stored.
  await pipelines.getByLabel(/^Name/).fill('Bistro Keycloak');
  await pipelines.getByLabel(/^Issuer/).fill('http://idp.bistro.example/realms/main');
  await pipelines.getByLabel(/^Audiences/).fill('urn:partner-data-portal');
  await pipelines.getByLabel(/^Allowed values/).fill('bistro-etl');
  await pipelines.getByRole('button', { name: 'Add federation policy' }).click();
  await page.getByText(/the issuer is the https URL/).first().waitFor();
  await pipelines.getByLabel(/^Issuer/).fill('https://idp.bistro.example/realms/main');
  await pipelines.getByLabel(/^Audiences/).fill('urn:partner-data-portal');
  await pipelines.getByLabel(/^Allowed values/).fill('bistro-etl');
  await pipelines.getByLabel(/^Name/).fill('Bistro Keycloak');
  await pipelines.getByRole('button', { name: 'Add federation policy' }).click();
  await page.getByText('Federation policy added').first().waitFor();
  await pipelines.getByText('https://idp.bistro.example/realms/main').waitFor();
  await shot(page, 'admin-recipient-pipelines');
  await row.getByRole('button', { name: /^Revoke OAuth client/ }).click();
  await page.getByText(/OAuth client revoked/).first().waitFor();
  assert.match(await pipelines.getByRole('row', { name: /Warehouse sync/ }).innerText(), /revoked/);
});

test('the console pages the admin opened ran without script or hydration errors', () => {
  assert.deepEqual(adminErrors, []);
});
