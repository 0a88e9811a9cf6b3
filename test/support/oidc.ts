import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** A real OpenID Connect provider (oidc-provider) on a loopback port, with its login and consent pages. */
export interface OidcServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Register the relying party's redirect URI (known once the console listens), then serve. */
  serve(redirectUri: string): void;
  close(): Promise<void>;
}

/**
 * Start an issuer. Anyone can sign in with any login (the provider's development interactions);
 * the account `<login>` has `preferred_username` `<login>` and email `<login>@example.com`
 * (verified unless the login starts with `unverified-`).
 */
export async function startOidcServer(): Promise<OidcServer> {
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'signoff-console';
  const clientSecret = randomBytes(24).toString('base64url');
  return {
    issuer,
    clientId,
    clientSecret,
    serve(redirectUri) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        pkce: { required: () => true },
        claims: {
          openid: ['sub'],
          email: ['email', 'email_verified'],
          profile: ['preferred_username', 'name'],
        },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        features: { devInteractions: { enabled: true } },
        findAccount: async (_ctx, id) => ({
          accountId: id,
          claims: async () => ({
            sub: id,
            preferred_username: id,
            name: id,
            email: `${id.replace(/^unverified-/, '')}@example.com`,
            email_verified: !id.startsWith('unverified-'),
          }),
        }),
      });
      server.on('request', provider.callback());
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
