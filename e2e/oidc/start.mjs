// Starts e2e/oidc/provider.mjs (a real OpenID Provider) for browser tests; see the comment at its top.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const READY = 'oidc provider listening on ';

async function freePort() {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/// `redirectUris`: an array or a comma-separated string; `port` omitted: a free one.
/// Resolves to `{ issuer, port, stop }` once the provider prints its ready line; `stop()` resolves when it has exited.
export async function startProvider({ port, clientId, clientSecret, redirectUris, timeoutMs = 30000 }) {
  port = port ?? await freePort();
  const proc = spawn(process.execPath, [join(import.meta.dirname, 'provider.mjs')], {
    env: {
      ...process.env,
      OIDC_PORT: String(port),
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: clientSecret,
      OIDC_REDIRECT_URIS: Array.isArray(redirectUris) ? redirectUris.join(',') : redirectUris,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((ok) => proc.once('exit', ok));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };
  const issuer = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); fail(new Error(`oidc provider printed no ready line in ${timeoutMs} ms\n${out}${stderr}`)); }, timeoutMs);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith(READY));
      if (line) { clearTimeout(timer); ok(line.slice(READY.length).trim()); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); fail(new Error(`oidc provider exited (${code})\n${out}${stderr}`)); });
  });
  return { issuer, port, stop, log: () => stderr };
}
