/**
 * Where a tab keeps the refresh token between page loads. The access token is
 * never stored: it lives in memory only.
 */

/** What a tab knows of its session. */
export interface TokenState {
  accessToken: string;
  /** Authorization scheme of the access token: `Bearer` (or `DPoP` for sender-constrained tokens). */
  tokenType: string;
  /** When the access token expires, in ms since the epoch, by this machine's clock. */
  expiresAt: number;
  /** When the token service issued it (local clock, ms); newest wins across tabs. */
  issuedAt: number;
  refreshToken: string;
  scope: string;
  /** Session id (the `sid` claim). */
  sid: string;
  /** Rotations since the exchange, as seen by this browser; newest wins across tabs. */
  gen: number;
}

/**
 * A place for the session between page loads. `load` and `save` are called
 * with the cross-tab refresh lock held.
 */
export interface RefreshStore {
  load(): TokenState | null;
  save(state: TokenState | null): void;
}

/** Keeps nothing: a new page gets the session from an open tab, or signs in again. */
export function memoryStore(): RefreshStore {
  return { load: () => null, save: () => {} };
}

/** Keeps the session in a Web Storage area (`sessionStorage` or `localStorage`) under `key`. */
export function webStorageStore(storage: Storage, key: string): RefreshStore {
  return {
    load() {
      const raw = storage.getItem(key);
      if (!raw) return null;
      try {
        return validState(JSON.parse(raw));
      } catch {
        return null;
      }
    },
    save(state) {
      if (state) storage.setItem(key, JSON.stringify(state));
      else storage.removeItem(key);
    },
  };
}

/** Returns v as a TokenState if it has the right shape, else null. */
export function validState(v: unknown): TokenState | null {
  if (!v || typeof v !== "object") return null;
  const s = v as Record<string, unknown>;
  const str = (k: string) => typeof s[k] === "string" && (s[k] as string) !== "";
  const num = (k: string) => typeof s[k] === "number" && Number.isFinite(s[k]);
  if (!str("accessToken") || !str("tokenType") || !str("refreshToken") || !str("sid")) return null;
  if (!num("expiresAt") || !num("issuedAt") || !num("gen") || typeof s.scope !== "string") return null;
  return {
    accessToken: s.accessToken as string,
    tokenType: s.tokenType as string,
    expiresAt: s.expiresAt as number,
    issuedAt: s.issuedAt as number,
    refreshToken: s.refreshToken as string,
    scope: s.scope as string,
    sid: s.sid as string,
    gen: s.gen as number,
  };
}

/** Whether `b` should replace `a`: a newer rotation of the same session, or a newer session. */
export function newer(a: TokenState | null, b: TokenState | null): boolean {
  if (!b) return false;
  if (!a) return true;
  if (a.sid === b.sid) return b.gen > a.gen || (b.gen === a.gen && b.issuedAt > a.issuedAt);
  return b.issuedAt > a.issuedAt;
}
