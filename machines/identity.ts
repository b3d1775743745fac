/**
 * Who a session is: `user` is the identity (a JWT's `sub`, an account name, or for an anonymous visitor the
 * session id) and `name` what other members see (the `name` claim, else `sub`; "Guest <4 chars>" for guests).
 * Protocol v2 sections 5 and 6.
 */
export interface Identity {
  user: string;
  name: string;
  /** True when the identity was proven (JWT or login cookie); false for an anonymous guest. */
  authenticated: boolean;
}

/** The identity of an anonymous session: the session is the user, named "Guest " + its first 4 characters. */
export function guestIdentity(session: string): Identity {
  return { user: session, name: `Guest ${session.slice(0, 4)}`, authenticated: false };
}
