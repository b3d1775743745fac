import type { Identity } from '../../machines/identity.js';

/**
 * How a connection's identity is written in its `connected` record: `user` and `name` for an authenticated
 * one; nothing for a guest (its identity follows from its session), so logs without sign-in read as before.
 */
export function identityRecord(identity: Identity | undefined): { user: string; name: string } | Record<string, never> {
  return identity?.authenticated ? { user: identity.user, name: identity.name } : {};
}

/** The authenticated identity a `connected` record carries, or undefined for a guest. */
export function recordedIdentity(data: { user?: string; name?: string }): Identity | undefined {
  return data.user === undefined ? undefined : { user: data.user, name: data.name ?? data.user, authenticated: true };
}
