// A table in S3 (s3s-fs, a real S3 server that verifies signatures), onboarded in the browser:
// an admin adds it by its s3:// location in the wizard, the partner previews it and downloads
// Excel. The portal knows the store only from the standard AWS variables.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPortal, launchBrowser, screenshotDir, freePort, grid, column } from './portal.mjs';

const root = resolve(import.meta.dirname, '../..');
const shot = (page, name) => page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

let s3;
let portal;
let browser;
let aws;

before(async () => {
  mkdirSync(screenshotDir, { recursive: true });
  const objects = mkdtempSync(join(tmpdir(), 's3-objects-'));
  mkdirSync(join(objects, 'lake'));
  const port = await freePort();
  aws = {
    AWS_ACCESS_KEY_ID: 'AKIABROWSERTEST',
    AWS_SECRET_ACCESS_KEY: 'browser-test-secret-5d1a',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ALLOW_HTTP: 'true',
  };
  s3 = spawn('s3s-fs', ['--host', '127.0.0.1', '--port', String(port), '--access-key', aws.AWS_ACCESS_KEY_ID, '--secret-key', aws.AWS_SECRET_ACCESS_KEY, objects], { stdio: 'inherit' });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(aws.AWS_ENDPOINT_URL); // any answer (a 403) means it listens
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // 300 order lines of three partners, written straight into the bucket by delta-rs.
  const write = `
import pandas as pd
from deltalake import write_deltalake
n = 300
df = pd.DataFrame({"partner_id": [["P001", "P 2", "P003"][i % 3] for i in range(n)], "order_id": list(range(n)), "units": [i % 9 for i in range(n)]})
write_deltalake("s3://lake/sales", df, partition_by=["partner_id"], storage_options={"AWS_S3_ALLOW_UNSAFE_RENAME": "true"})
`;
  execFileSync(join(root, '.venv/bin/python'), ['-c', write], { env: { ...process.env, ...aws }, stdio: 'inherit' });
  portal = await startPortal(aws);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  portal?.stop();
  s3?.kill('SIGTERM');
});

test('an admin adds an s3:// table in the wizard; the partner previews it and downloads Excel', async () => {
  const link = portal.cli('admin', 'login-link').trim().split('\n').at(-1).trim();
  const admin = await browser.newContext();
  const page = await admin.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in as administrator' }).click();
  await page.waitForURL(portal.base + '/admin');
  await page.getByRole('link', { name: 'Onboard a partner' }).first().click();
  await page.getByLabel('New share name').fill('s3_feed');
  await page.getByRole('button', { name: 'Create share and continue' }).click();
  await page.waitForURL(/step=2/);

  await page.getByLabel('Table name').fill('sales');
  await page.getByLabel(/^Location/).fill('s3://lake/sales');
  await page.getByLabel(/^Row scope/).fill('partner_id=partner_id');
  await page.getByRole('button', { name: 'Add table' }).click();
  await page.getByText(/^Added default\.sales \(3 columns:/).waitFor();
  const card = await page.locator('#step ul li').first().innerText();
  assert.match(card, /s3:\/\/lake\/sales/);
  assert.match(card, /Read with the credentials of the AWS_\* environment variables/);
  assert.match(card, /order_id long/);
  assert.ok(!card.includes(aws.AWS_SECRET_ACCESS_KEY));
  await shot(page, 'admin-onboard-s3');

  // A bucket that does not exist is named as such, in the form.
  await page.getByLabel('Table name').fill('nothing');
  await page.getByLabel(/^Location/).fill('s3://no-such-bucket/sales');
  await page.getByRole('button', { name: 'Add table' }).click();
  await page.locator('#location-error').getByText('`s3://no-such-bucket/sales` cannot be read: the bucket or container does not exist').waitFor();
  await shot(page, 'admin-onboard-s3-missing-bucket');

  await page.getByRole('link', { name: 'Continue to the recipient' }).click();
  await page.getByLabel('Recipient name').fill('s3_partner');
  await page.getByLabel(/^Properties/).fill('partner_id=P 2');
  await page.getByRole('button', { name: 'Create recipient and continue' }).click();
  await page.waitForURL(/step=4/);
  await page.getByRole('button', { name: 'Grant s3_feed to s3_partner' }).click();
  await page.waitForURL(/step=5/);
  await page.getByRole('button', { name: 'Create activation link' }).click();
  await page.waitForURL(/issued=/);
  const activation = await page.locator('input#activation-url').inputValue();
  await admin.close();

  const partner = await browser.newContext({ acceptDownloads: true });
  const p = await partner.newPage();
  await p.goto(activation);
  await p.getByRole('button', { name: 'Download credential file' }).click();
  await p.getByRole('link', { name: 'continue to your data' }).click();
  await p.getByRole('link', { name: 'sales', exact: true }).click();
  await p.getByRole('heading', { name: 'sales', exact: true }).waitFor();
  await p.locator('[data-testid=rows] tbody tr').first().waitFor();
  const g = await grid(p);
  assert.equal(g.rows.length, 100, 'the first page of the partner’s 100 rows');
  assert.ok(column(g, 'partner_id').every((v) => v === 'P 2'), 'only the partner’s own rows');
  await shot(p, 'portal-table-s3');

  const [workbook] = await Promise.all([p.waitForEvent('download'), p.getByRole('link', { name: 'Excel (.xlsx)' }).click()]);
  assert.match(workbook.suggestedFilename(), /^sales_\d{4}-\d\d-\d\d\.xlsx$/);
  const file = join(mkdtempSync(join(tmpdir(), 'xlsx-')), workbook.suggestedFilename());
  await workbook.saveAs(file);
  const check = `
import openpyxl, sys
ws = openpyxl.load_workbook(sys.argv[1]).worksheets[0]
header = [c.value for c in ws[1]]
rows = list(ws.iter_rows(min_row=2, values_only=True))
ids = sorted(r[header.index("order_id")] for r in rows)
assert ids == [i for i in range(300) if i % 3 == 1], ids[:5]
assert {r[header.index("partner_id")] for r in rows} == {"P 2"}
print(len(rows))
`;
  assert.equal(execFileSync(join(root, '.venv/bin/python'), ['-c', check, file], { encoding: 'utf8' }).trim(), '100');
  assert.equal(readFileSync(file).subarray(0, 2).toString(), 'PK');
  await partner.close();
});
