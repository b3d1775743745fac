/**
 * Where the client keeps the queue `resumeToken` between connections, so a dropped connection (or, with
 * sessionStorage, a page reload) can take its place in line back within the server's resume window.
 */

/** Holds at most one resume token. Implementations must not throw. */
export interface ResumeStore {
  /** The stored token, or `null` when there is none. */
  get(): string | null;
  /** Replace the stored token. */
  set(token: string): void;
  /** Forget the stored token. */
  clear(): void;
}

/** Keeps the token in memory: it survives reconnects of one client object, not a page reload. */
export class MemoryResumeStore implements ResumeStore {
  #token: string | null = null;

  get(): string | null {
    return this.#token;
  }

  set(token: string): void {
    this.#token = token;
  }

  clear(): void {
    this.#token = null;
  }
}

/** The part of the Web Storage API (`sessionStorage`, `localStorage`) a {@link WebStorageResumeStore} uses. */
export type ResumeStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Prefix of the storage key; the room URL follows it. */
export const RESUME_STORAGE_KEY_PREFIX = 'anteroom:resume:';

/** The storage key for a room URL, normalized so `ws://h:1` and `ws://h:1/` share a key. */
export function resumeStorageKey(roomUrl: string): string {
  let normalized = roomUrl;
  try {
    normalized = new URL(roomUrl).href;
  } catch {
    // Not an absolute URL: key on the string as given.
  }
  return RESUME_STORAGE_KEY_PREFIX + normalized;
}

/**
 * Keeps the token in a Web Storage object under a key that includes the room URL, so one tab can wait in
 * several rooms. Use `sessionStorage`: it is per tab and survives a reload, which is exactly the lifetime of
 * a held queue place. Storage failures (quota, disabled storage, sandboxed frames) degrade to memory.
 */
export class WebStorageResumeStore implements ResumeStore {
  /** The storage key in use. */
  readonly key: string;
  readonly #storage: ResumeStorage;
  readonly #fallback = new MemoryResumeStore();

  constructor(storage: ResumeStorage, roomUrl: string) {
    this.#storage = storage;
    this.key = resumeStorageKey(roomUrl);
  }

  get(): string | null {
    try {
      return this.#storage.getItem(this.key) ?? this.#fallback.get();
    } catch {
      return this.#fallback.get();
    }
  }

  set(token: string): void {
    this.#fallback.set(token);
    try {
      this.#storage.setItem(this.key, token);
    } catch {
      // Kept in memory only.
    }
  }

  clear(): void {
    this.#fallback.clear();
    try {
      this.#storage.removeItem(this.key);
    } catch {
      // Nothing stored there to clear.
    }
  }
}

/**
 * A store over `globalThis.sessionStorage` for `roomUrl`, or a {@link MemoryResumeStore} where there is
 * none (Node, or a browser context that refuses storage access).
 */
export function createSessionResumeStore(roomUrl: string): ResumeStore {
  let storage: ResumeStorage | undefined;
  try {
    storage = (globalThis as { sessionStorage?: ResumeStorage }).sessionStorage;
  } catch {
    // Reading sessionStorage throws a SecurityError in some sandboxed frames.
  }
  return storage ? new WebStorageResumeStore(storage, roomUrl) : new MemoryResumeStore();
}
