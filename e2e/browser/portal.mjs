// Starts the real portal binary on a fresh data directory for browser tests.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { afterEach, after } from 'node:test';
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

/// A Chromium whose every context (and so every page, `browser.newPage()` included) reports
/// Content-Security-Policy violations: each test of a file that imports this module fails if any
/// page broke the policy while it ran (see `takeCspViolations`).
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => watchCsp(await newContext(options));
  return browser;
}

// Content-Security-Policy violations, from two independent witnesses: the `securitypolicyviolation`
// events of each document (an init script, which Playwright injects through CDP, outside the page's
// policy) and Chromium's console ("Refused to … because it violates the following Content Security
// Policy directive …"). Violations wait here until a test's end takes them.
const violations = [];
const seen = new Set(); // ids of event reports already recorded (a report may arrive twice: binding and pull)
const watched = new Set(); // open contexts

function record(v) {
  if (v.id) {
    if (seen.has(v.id)) return;
    seen.add(v.id);
  }
  violations.push(v);
}

/// Runs in every document before its own scripts.
function cspCollector() {
  if (window.__cspViolations) return;
  const doc = Math.random().toString(36).slice(2);
  let n = 0;
  window.__cspViolations = [];
  document.addEventListener(
    'securitypolicyviolation',
    (e) => {
      const v = {
        id: `${doc}:${n++}`,
        via: 'securitypolicyviolation',
        directive: e.effectiveDirective,
        violatedDirective: e.violatedDirective,
        blockedURI: e.blockedURI,
        sourceFile: e.sourceFile,
        line: e.lineNumber,
        sample: e.sample,
        disposition: e.disposition,
        page: document.URL,
      };
      window.__cspViolations.push(v);
      try {
        window.__reportCspViolation?.(v);
      } catch {}
    },
    true,
  );
}

const CSP_CONSOLE = /Content[- ]Security[- ]Policy|Refused to/i;

async function watchCsp(context) {
  watched.add(context);
  context.on('close', () => watched.delete(context));
  context.on('console', (m) => {
    const text = m.text();
    if (CSP_CONSOLE.test(text)) record({ via: `console.${m.type()}`, text, page: m.page()?.url(), sourceFile: m.location()?.url });
  });
  await context.exposeBinding('__reportCspViolation', (_source, v) => record(v));
  await context.addInitScript(cspCollector);
  return context;
}

/// Returns, and forgets, the violations seen so far, also those still only in an open page's
/// `window.__cspViolations` (their report may be on its way).
export async function takeCspViolations() {
  for (const context of [...watched]) {
    for (const page of context.pages()) {
      const pending = await Promise.race([
        page.evaluate(() => window.__cspViolations ?? []).catch(() => []),
        new Promise((ok) => setTimeout(() => ok([]), 2000)),
      ]);
      pending.forEach(record);
    }
  }
  return violations.splice(0);
}

export const describeCspViolations = (list) =>
  list
    .map((v) =>
      v.via === 'securitypolicyviolation'
        ? `${v.directive} blocked ${v.blockedURI || '(none)'} on ${v.page} (source ${v.sourceFile || '-'}:${v.line ?? '-'}${v.sample ? `, sample ${JSON.stringify(v.sample)}` : ''})`
        : `${v.via} on ${v.page ?? '?'}: ${v.text}`,
    )
    .join('\n');

async function noCspViolations(when) {
  const list = await takeCspViolations();
  if (list.length) throw new Error(`${list.length} Content-Security-Policy violation report(s) ${when}:\n${describeCspViolations(list)}`);
}

afterEach(async (t) => noCspViolations(`during "${t.name}"`));
after(async () => noCspViolations('after the last test'));

/// Waits until the page has hydrated: the client-side router then takes over a click on a link
/// (probed with a link to the page itself; without the router, the probe cancels the click).
export async function hydrated(page) {
  await page.waitForFunction(
    () => {
      const a = document.createElement('a');
      a.href = location.href;
      document.body.appendChild(a);
      let routed = false;
      const probe = (ev) => {
        routed = ev.defaultPrevented;
        ev.preventDefault();
      };
      window.addEventListener('click', probe);
      a.click();
      window.removeEventListener('click', probe);
      a.remove();
      return routed;
    },
    null,
    { polling: 100, timeout: 30000 },
  );
  await page.waitForTimeout(200);
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
