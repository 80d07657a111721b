// A real OpenID Connect provider (the npm package oidc-provider) on loopback, for the
// single sign-on tests. Any username signs in with any password (its development login
// page); the "username" becomes the account's preferred_username claim.
//
//   PORT=9000 CLIENTS='[{"client_id": ..., "client_secret": ..., "redirect_uris": [...]}]' \
//     node tests/oidc/provider.mjs
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS).map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  ...client,
}));

const provider = new Provider(issuer, {
  clients,
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: id };
      },
    };
  },
  // The awarding body's own services: no consent page.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile');
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['learner-tracking-tests-only'] },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
