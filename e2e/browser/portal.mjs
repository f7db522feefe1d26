// Starts the real portal binary on a fresh data directory for browser tests.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../..');
const bin = process.env.PORTAL_BIN ?? join(root, 'target/debug/portal');

export async function freePort() {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/// `extraEnv` adds or overrides settings (e.g. `{ PORTAL_EXPORT_JOB_ROWS: '10' }`); `port` fixes the
/// port (e.g. one chosen with `freePort()` so an OpenID provider can be told the redirect URL first).
export async function startPortal(extraEnv = {}, { port } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'portal-e2e-'));
  port = port ?? await freePort();
  const env = {
    ...process.env,
    PORTAL_DATA_DIR: dataDir,
    PORTAL_ADDR: `127.0.0.1:${port}`,
    PORTAL_CONFIG: join(dataDir, 'none.toml'),
    PORTAL_SITE_ROOT: process.env.PORTAL_SITE_ROOT ?? join(root, 'target/site'),
    ...extraEnv,
  };
  const cli = (...args) => execFileSync(bin, args, { env, encoding: 'utf8' });
  const proc = spawn(bin, ['serve'], { env, stdio: 'inherit' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      await fetch(base + '/');
      return { base, cli, dataDir, stop: () => proc.kill('SIGTERM') };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  proc.kill('SIGKILL');
  throw new Error('portal did not start');
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export const screenshotDir = join(root, 'e2e/screenshots');

/// The grid of the partner's table page: column names and cell texts.
export async function grid(page) {
  return page.evaluate(() => {
    const table = document.querySelector('[data-testid=rows]');
    if (!table) return { columns: [], rows: [] };
    const columns = [...table.querySelectorAll('thead th summary span.font-mono')].map((s) => s.textContent.trim());
    const rows = [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim()));
    return { columns, rows };
  });
}

/// The cells of one column of a `grid`.
export const column = (g, name) => g.rows.map((r) => r[g.columns.indexOf(name)]);
