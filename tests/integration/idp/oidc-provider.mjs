// A test OpenID Provider (the npm package oidc-provider) for Parley's OIDC tests.
// PORT and REDIRECT_URI come from the environment; prints "ready" once it listens.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const redirectUri = process.env.REDIRECT_URI;
const accounts = {
  alice: { email: 'alice@parley.test', groups: ['parley-admins'] },
  bob: { email: 'bob@parley.test', groups: ['labellers'] },
  carol: { email: 'carol@parley.test', groups: [] },
};
const client = (id) => ({
  client_id: id,
  client_secret: `${id}-client-secret`,
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [client('parley'), client('other-app'), client('short-lived')],
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email'],
    groups: ['groups'],
  },
  conformIdTokenClaims: false, // the requested claims go into the ID token too
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: id, ...account };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  ttl: {
    IdToken: (ctx, token, c) => (c && c.clientId === 'short-lived' ? 1 : 3600),
  },
  pkce: { required: () => true },
  cookies: { keys: ['parley-test-cookie-key'] },
});
provider.listen(port, '127.0.0.1', () => console.log('ready'));
