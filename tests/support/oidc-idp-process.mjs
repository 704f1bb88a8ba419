/* global process */
/**
 * A real OpenID provider for the viewer's sign-in tests: panva's `oidc-provider` (the certified
 * implementation), unmodified, on loopback, in a process of its own because it is an ES module and
 * the Jest set-up loads CommonJS. `tests/support/oidc-idp.ts` starts it and hands it, in the
 * CAREBRIDGE_TEST_IDP environment variable (JSON), its issuer, signing keys (private JWKs the test
 * generated), clients and accounts (each a login and the claims the account has). It prints
 * `{"port":N}` once listening. Its development interactions (a login form taking any login, a
 * consent form, a cancel link) stand for the identity provider's own pages.
 */
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env['CAREBRIDGE_TEST_IDP'] ?? '{}');

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  async findAccount(_ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, claims: () => ({ ...claims, sub: id }) };
  },
  // CIS2's scopes for its national RBAC claims, and one scope for CareBridge's own claims. With
  // the code flow these are answered by the UserInfo endpoint, not put in the ID token (as CIS2 does).
  claims: {
    openid: ['sub'],
    profile: ['name'],
    carebridge: ['role', 'org', 'teams', 'groups', 'worker'],
    nationalrbacaccess: ['nhsid_nrbac_roles'],
    selectedrole: ['selected_roleid'],
  },
  scopes: ['openid', 'profile', 'carebridge', 'nationalrbacaccess', 'selectedrole'],
  // Confidential clients too must use PKCE here, so a wrong or missing code_verifier is refused.
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  ttl: { IdToken: config.idTokenSeconds ?? 3600, AccessToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
  cookies: { keys: ['carebridge-test-idp-cookie-key-not-secret'] },
});

const server = createServer(provider.callback());
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
