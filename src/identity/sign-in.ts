import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-config.js';
import type { DataDirSecrets } from '../durable/data-dir-secrets.js';
import { AddressRate } from '../server/address-rate.js';
import { ConnectionsPerUser } from '../server/connections-per-user.js';
import { normalizeOrigin } from '../server/upgrade-gate.js';
import type { AnteroomDatabase } from '../store/anteroom-database.js';
import { createLoginRoutes } from './login-api.js';
import { createLoginTokens, type LoginTokens } from './login-tokens.js';
import { createSiteTokenVerifier, identifyUpgrade, type TokenVerifier, type UpgradeIdentity } from './upgrade-auth.js';
import { UserAccounts } from './user-accounts.js';

/** Login attempts per client address: one every 5 s on average, 5 at once. */
const loginRate = 0.2;
const loginBurst = 5;

/** Sign-in as a server runs it: the token checks at the upgrade, the built-in accounts, the per-user limit. */
export interface SignIn {
  /** Who an upgrade is (see `identifyUpgrade`). */
  identify(request: Pick<IncomingMessage, 'headers' | 'url'>): Promise<UpgradeIdentity>;
  /** Open connections per authenticated user. */
  readonly connectionsPerUser: ConnectionsPerUser;
  /** The login's `extraRoutes` entry for the visitors' listener. */
  loginRoutes(addressOf: (request: IncomingMessage) => string): ReturnType<typeof createLoginRoutes>;
}

/** The login cookie's verifier, for accounts that still exist: removing an account signs it out at once. */
function liveAccountsOnly(accounts: { users: UserAccounts; tokens: LoginTokens }): TokenVerifier {
  return async (token) => {
    const identity = await accounts.tokens.verify(token);
    return identity !== null && accounts.users.passwordHashOf(identity.user) !== null ? identity : null;
  };
}

/**
 * Sign-in from the configuration: the site's token verifier (`--auth-*`), and with a data dir the built-in
 * accounts in `anteroom.db` and the login cookie signed with the data dir's login secret. A valid login
 * cookie is honoured whether or not the site's keys are configured. `database` opens the server's one
 * handle on `anteroom.db`, which the server closes. Throws ConfigError for an unreadable key
 * file or database.
 */
export function createSignIn(config: ServerConfig, secrets: DataDirSecrets | null, logger: Logger, database: () => AnteroomDatabase): SignIn {
  const site = createSiteTokenVerifier(config);
  let accounts: { users: UserAccounts; tokens: LoginTokens } | null = null;
  if (config.dataDir !== null && secrets !== null) {
    accounts = { users: new UserAccounts(database()), tokens: createLoginTokens(secrets.loginSecret) };
  }
  const verifiers: TokenVerifier[] = [...(site ? [site] : []), ...(accounts ? [liveAccountsOnly(accounts)] : [])];
  if (config.authRequired && verifiers.length === 0) {
    logger.warn('--auth-required without a key (--auth-secret, --auth-public-key, --auth-jwks) or --data-dir: no one can sign in, every upgrade is refused');
  }
  const attempts = new AddressRate(loginRate, loginBurst);
  const cookieOrigins = new Set((config.allowedOrigins ?? []).map(normalizeOrigin).filter((origin) => origin !== null));
  return {
    identify: (request) => identifyUpgrade(request, config.authCookie, verifiers, config.authRequired, cookieOrigins),
    connectionsPerUser: new ConnectionsPerUser(config.maxConnectionsPerUser),
    loginRoutes: (addressOf) => createLoginRoutes({ accounts, cookieName: config.authCookie, attempts, addressOf, cookieOrigins, trustProxy: config.trustProxy }),
  };
}
