// A real, certified OpenID Provider (npm `oidc-provider`) for the end-to-end tests of the portal's OIDC sign-in.
// Env: OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (comma-separated). Issuer: http://127.0.0.1:<port>.
// One confidential client (auth code + PKCE S256 required); any login/password signs in, claims come from DIRECTORY below.
// The browser sees one page, the built-in login form (fields `login`, `password`, button "Sign-in"); consent is automatic.
// Partners' machines (federation tests): OIDC_MACHINE_CLIENTS (JSON list of {client_id, client_secret}) may use the
// client-credentials grant and get JWT access tokens (RS256) whose audience is the requested `resource`, else
// OIDC_RESOURCE (default urn:partner-data-portal); `sub` and `client_id` are the client's id. OIDC_SIGNING_JWK (a
// private RSA JWK as JSON) replaces the ephemeral signing key, so a test can also sign tokens the provider would not.
// Prints `oidc provider listening on <issuer>` when ready; SIGTERM/SIGINT stop it. Helpers: start.mjs (node), ../python/oidc.py.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number(env('OIDC_PORT'));
const clientId = env('OIDC_CLIENT_ID');
const clientSecret = env('OIDC_CLIENT_SECRET');
const redirectUris = env('OIDC_REDIRECT_URIS').split(',').map((s) => s.trim()).filter(Boolean);
const issuer = `http://127.0.0.1:${port}`;

// Login id → claims. Any other login: email = the login, email_verified true, no groups.
const DIRECTORY = {
  'admin@retailer.example': { name: 'Retailer Admin', email_verified: true, groups: ['portal-admins'] },
  'north@retailer.example': { name: 'North Team Admin', email_verified: true, groups: ['portal-team-north'] },
  'nobody@retailer.example': { name: 'Nobody Special', email_verified: true, groups: [] },
  'buyer@acme.example': { name: 'Acme Buyer', email_verified: true, groups: [] },
  // For negative tests of "email_verified must be true".
  'unverified@acme.example': { name: 'Unverified Acme', email_verified: false, groups: [] },
};

function claimsFor(login) {
  const entry = DIRECTORY[login] ?? { name: login.split('@')[0], email_verified: true, groups: [] };
  return { sub: login, email: login, email_verified: entry.email_verified, name: entry.name, groups: entry.groups };
}

// An ephemeral signing key unless the test gives one: relying parties must fetch /jwks.
const signingKey = process.env.OIDC_SIGNING_JWK
  ? { alg: 'RS256', use: 'sig', ...JSON.parse(process.env.OIDC_SIGNING_JWK) }
  : {
    ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
    kid: `e2e-${randomBytes(4).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };
const machineClients = JSON.parse(process.env.OIDC_MACHINE_CLIENTS || '[]').map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'sharing',
}));
const defaultResource = process.env.OIDC_RESOURCE || 'urn:partner-data-portal';

const SCOPES = ['openid', 'email', 'profile', 'groups', 'sharing'];
const CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name'],
  groups: ['groups'],
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    // client_secret_post is accepted too for a client registered with client_secret_basic.
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: redirectUris,
  }, ...machineClients],
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  pkce: { required: () => true }, // S256 is the only method oidc-provider 9 supports
  scopes: SCOPES,
  claims: CLAIMS,
  conformIdTokenClaims: false, // the ID token itself carries email, email_verified, name, groups
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] }, // not `secure` over plain http (no proxy)
  features: {
    devInteractions: { enabled: true }, // the built-in login form
    clientCredentials: { enabled: true },
    // Access tokens for a resource server (the portal) are JWTs with that audience, valid an hour.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => defaultResource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => ({
        scope: 'sharing',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  async findAccount(_ctx, sub) {
    return { accountId: sub, claims: async () => claimsFor(sub) };
  },
  // Auto-consent: grant openid + whatever scopes/claims the client asked for, so no consent page is shown.
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== session.accountId) {
      grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    }
    const scopes = [...ctx.oidc.requestParamOIDCScopes];
    grant.addOIDCScope(['openid', ...scopes].join(' '));
    const claims = [...ctx.oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    const rows = Object.entries(out).map(([k, v]) => `<p><b>${k}</b>: ${String(v).replace(/[<>&"]/g, '')}</p>`);
    ctx.body = `<!DOCTYPE html><title>oops! something went wrong</title><h1>oops! something went wrong</h1>${rows.join('')}`;
  },
  clientBasedCORS: () => false,
});

// The built-in pages @import a Google font; nothing off this machine may be contacted, so drop it.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.body.includes('@import url(https://fonts.googleapis.com')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
  }
});

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  console.log(`oidc provider listening on ${issuer}`);
});
server.on('error', (err) => {
  console.error(`provider.mjs: ${err.message}`);
  process.exit(1);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
