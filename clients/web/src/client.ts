import { SignedOutError, TokenError } from "./errors.js";
import { memoryStore, newer, validState, webStorageStore, type RefreshStore, type TokenState } from "./store.js";
import { Peers, localLocks, type ChannelLike, type LockManagerLike, type TabMessage } from "./tabs.js";

const GRANT_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const TYPE_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token";

/** What the SDK is about to send; a signer may add headers (a DPoP proof, for instance). */
export interface OutgoingRequest {
  /** `token` (exchange or refresh), `revoke`, `sessions`, or `api` (a call through {@link ShortfuseClient.fetch}). */
  kind: "token" | "revoke" | "sessions" | "api";
  method: string;
  url: string;
  /** Mutable: headers set here are sent. */
  headers: Headers;
  /** The access token attached to the request, if any. */
  accessToken?: string;
}

/** Called before every request the SDK sends. */
export type RequestSigner = (req: OutgoingRequest) => void | Promise<void>;

export interface ShortfuseOptions {
  /** The token service's URL (its issuer): `/token`, `/revoke` and `/sessions` are relative to it. */
  issuer: string;
  /** The Cognito app client id, sent as `client_id`. */
  clientId: string;
  /**
   * Returns a current Cognito ID token, or null when the user is not signed in to Cognito.
   * Amplify: `async () => (await fetchAuthSession()).tokens?.idToken?.toString() ?? null`.
   */
  getIdToken: () => Promise<string | null | undefined>;
  /** Scopes to ask for at the exchange, space-separated. */
  scope?: string;
  /** Override single endpoints, e.g. when `/sessions` sits behind an API gateway on another host. */
  endpoints?: { token?: string; revoke?: string; sessions?: string };
  /**
   * Where the refresh token is kept between page loads: `memory` (default: nowhere; an open tab
   * hands it to a new one, else the page signs in again), `session` (sessionStorage, per tab) or
   * `local` (localStorage, shared, survives restarts; readable by any script on the origin), or a
   * {@link RefreshStore} of your own. See README "Where the refresh token lives".
   */
  refreshTokenStorage?: "memory" | "session" | "local" | RefreshStore;
  /** Seconds before expiry at which the access token is refreshed; default 20% of its lifetime, 2–60 s. */
  refreshAhead?: number;
  /** Refresh in the background before expiry (default true); else only when a call needs it. */
  autoRefresh?: boolean;
  /** Hook called before every request: the seam for sender-constrained (DPoP) tokens. */
  signRequest?: RequestSigner;
  /**
   * Called with every answer to a request the SDK sent; returning true sends it once more,
   * signed again (a DPoP-Nonce challenge, for instance). The answer's body is left unread.
   */
  retryOnResponse?: (req: OutgoingRequest, res: Response) => boolean | Promise<boolean>;
  /** How long a tab waits for the others to report their tokens before refreshing (ms, default 250). */
  syncTimeoutMs?: number;
  /** Transient failures (network, 5xx, 429) of one refresh retried with the same token (default 3). */
  refreshRetries?: number;
  fetch?: typeof fetch;
  /** Web Locks API (default `navigator.locks`); null for in-tab locking only. */
  locks?: LockManagerLike | null;
  /** Cross-tab channel (default a BroadcastChannel); null for none. */
  channel?: ChannelLike | null;
  now?: () => number;
}

/** The current session, as this tab sees it. */
export interface SessionInfo {
  sid: string;
  /** When the access token expires (ms since the epoch). */
  expiresAt: number;
  scope: string;
  /** The access token's claims, decoded but NOT verified: for display only. */
  claims: Record<string, unknown>;
}

/** One entry of `GET /sessions`. */
export interface SessionEntry {
  id: string;
  active: boolean;
  current: boolean;
  [k: string]: unknown;
}

export interface SignOutResult {
  /** The token service confirmed the session is revoked. When false, it ends at its idle limit. */
  sessionRevoked: boolean;
  sid: string | null;
  error?: unknown;
}

/** Why a session ended in this tab (`signedout` event detail). */
export type SignOutReason = "signed_out" | "session_ended";

/** Counters of this tab's activity since it was created. */
export interface Stats {
  calls: number;
  exchanges: number;
  refreshes: number;
  refreshRetries: number;
  unauthorized: number;
  unauthorizedAfterRetry: number;
}

/**
 * A browser client of the shortfuse token service. Create one per page; the
 * pages of one origin cooperate. Events: `tokens` (a new access token) and
 * `signedout` (detail `{reason, sid}`), on every tab.
 */
export class ShortfuseClient extends EventTarget {
  /** Resolves once this tab has learned the session from its peers or its store. */
  readonly ready: Promise<void>;
  readonly stats: Stats = { calls: 0, exchanges: 0, refreshes: 0, refreshRetries: 0, unauthorized: 0, unauthorizedAfterRetry: 0 };

  private readonly o: ShortfuseOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly locks: LockManagerLike;
  private readonly store: RefreshStore;
  private readonly peers: Peers;
  private readonly lockName: string;
  private readonly now: () => number;
  private readonly ep: { token: string; revoke: string; sessions: string };
  private state: TokenState | null = null;
  private readonly ended = new Set<string>();
  private inflight: Promise<TokenState> | undefined;
  private lastForced = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(options: ShortfuseOptions) {
    super();
    if (!options.issuer) throw new TypeError("issuer is required");
    if (!options.clientId) throw new TypeError("clientId is required");
    if (typeof options.getIdToken !== "function") throw new TypeError("getIdToken must be a function");
    this.o = options;
    const base = options.issuer.replace(/\/+$/, "");
    this.ep = {
      token: options.endpoints?.token ?? base + "/token",
      revoke: options.endpoints?.revoke ?? base + "/revoke",
      sessions: (options.endpoints?.sessions ?? base + "/sessions").replace(/\/+$/, ""),
    };
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.now = options.now ?? Date.now;
    const scopeKey = `shortfuse:${base}:${options.clientId}`;
    this.lockName = scopeKey + ":refresh";
    this.store = pickStore(options.refreshTokenStorage ?? "memory", scopeKey);
    const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
    this.locks = options.locks === undefined ? (nav?.locks ?? localLocks()) : (options.locks ?? localLocks());
    let channel: ChannelLike | null = null;
    if (options.channel !== undefined) channel = options.channel;
    else if (typeof BroadcastChannel === "function") channel = new BroadcastChannel(scopeKey) as unknown as ChannelLike;
    this.peers = new Peers(channel, (m) => this.receive(m));
    this.ready = this.start();
  }

  /** Whether this tab holds a session. */
  get signedIn(): boolean {
    return this.state !== null;
  }

  /** The current session, or null. */
  get session(): SessionInfo | null {
    const s = this.state;
    if (!s) return null;
    return { sid: s.sid, expiresAt: s.expiresAt, scope: s.scope, claims: decodeClaims(s.accessToken) };
  }

  /**
   * Exchanges the ID token from `getIdToken` for a session (RFC 8693). If this
   * browser already has a session (this tab or another), that one is kept and returned.
   */
  async signIn(): Promise<SessionInfo> {
    await this.ready;
    return this.locks.request(this.lockName, async () => {
      await this.catchUp();
      if (this.state) return this.session!;
      const idToken = await this.o.getIdToken();
      if (!idToken) throw new SignedOutError("the ID token source returned no token");
      const body: Record<string, string> = {
        grant_type: GRANT_EXCHANGE,
        subject_token: idToken,
        subject_token_type: TYPE_ID_TOKEN,
        client_id: this.o.clientId,
      };
      if (this.o.scope) body.scope = this.o.scope;
      const next = await this.tokenRequest(body, null);
      this.stats.exchanges++;
      this.set(next);
      return this.session!;
    });
  }

  /** A valid access token, refreshed first if it is about to expire. Throws SignedOutError without a session. */
  async accessToken(): Promise<string> {
    return (await this.current()).accessToken;
  }

  /**
   * fetch with the access token attached. A 401 answer is retried once after a
   * refresh; if the session has ended the 401 is returned and `signedout` fires.
   */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const req = new Request(input, init);
    let s = await this.current();
    this.stats.calls++;
    let res = await this.send(req.clone(), s, "api");
    if (res.status !== 401) return res;
    this.stats.unauthorized++;
    const fresh = await this.afterUnauthorized(s);
    if (!fresh) return res;
    res = await this.send(req, fresh, "api");
    if (res.status === 401) this.stats.unauthorizedAfterRetry++;
    return res;
  }

  /** The user's sessions (`GET /sessions`), newest first. */
  async listSessions(): Promise<{ sessions: SessionEntry[]; truncated?: boolean }> {
    const res = await this.fetchKind(this.ep.sessions, { method: "GET" }, "sessions");
    if (!res.ok) throw await errorOf(res);
    return res.json();
  }

  /** Ends one of the user's sessions (`DELETE /sessions/{id}`); ending this one signs out every tab. */
  async endSession(id: string): Promise<void> {
    const res = await this.fetchKind(this.ep.sessions + "/" + encodeURIComponent(id), { method: "DELETE" }, "sessions");
    if (!res.ok) throw await errorOf(res);
    if (this.state?.sid === id) this.end("signed_out");
  }

  /**
   * Revokes the session at the token service (RFC 7009) and signs out every tab.
   * The Cognito side is the page's: revoke Cognito's refresh token too (Amplify
   * `signOut()`, or {@link revokeCognitoRefreshToken}), or the ID token source
   * will sign the user straight back in.
   */
  async signOut(): Promise<SignOutResult> {
    await this.ready;
    return this.locks.request(this.lockName, async () => {
      await this.catchUp();
      const s = this.state;
      if (!s) return { sessionRevoked: false, sid: null };
      let error: unknown;
      let revoked = false;
      for (let attempt = 0; attempt <= (this.o.refreshRetries ?? 3); attempt++) {
        try {
          await this.revokeRequest(s.refreshToken);
          revoked = true;
          break;
        } catch (e) {
          error = e;
          if (!(e instanceof TokenError && e.transient)) break;
          await sleep(backoff(attempt));
        }
      }
      this.end("signed_out");
      return revoked ? { sessionRevoked: true, sid: s.sid } : { sessionRevoked: false, sid: s.sid, error };
    });
  }

  /** Stops timers and leaves the channel; the session stays with the other tabs. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.peers.close();
  }

  // ------------------------------------------------------------------ internals

  private async start(): Promise<void> {
    this.adopt(this.store.load());
    if (this.peers) {
      // Ask the open tabs for the session; the first answer with one is enough,
      // since every tab holds the newest tokens it has seen.
      await new Promise<void>((resolve) => {
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          clearTimeout(t);
          this.removeEventListener("tokens", finish);
          resolve();
        };
        const t = setTimeout(finish, this.o.syncTimeoutMs ?? 250);
        this.addEventListener("tokens", finish);
        this.peers.post({ t: "hello", from: this.peers.id });
        if (this.o.channel === null || (this.o.channel === undefined && typeof BroadcastChannel !== "function")) finish();
      });
    }
  }

  private receive(m: TabMessage): void {
    switch (m.t) {
      case "hello":
        this.peers.post({ t: "state", from: this.peers.id, state: this.state });
        break;
      case "sync":
        this.peers.post({ t: "state", from: this.peers.id, nonce: m.nonce, state: this.state });
        break;
      case "state":
        if (!m.nonce) this.adopt(m.state);
        break;
      case "signedout":
        this.ended.add(m.sid);
        if (this.state?.sid === m.sid) this.end(m.reason === "session_ended" ? "session_ended" : "signed_out", false);
        break;
    }
  }

  /** Takes s if it is newer than what this tab holds. */
  private adopt(raw: unknown): boolean {
    const s = validState(raw);
    if (!s || this.ended.has(s.sid) || !newer(this.state, s)) return false;
    this.state = s;
    this.store.save(s);
    this.schedule();
    this.emit("tokens", { sid: s.sid, expiresAt: s.expiresAt });
    return true;
  }

  /** Installs tokens this tab obtained and hands them to the other tabs. */
  private set(s: TokenState): void {
    this.state = s;
    this.store.save(s);
    this.peers.post({ t: "state", from: this.peers.id, state: s });
    this.schedule();
    this.emit("tokens", { sid: s.sid, expiresAt: s.expiresAt });
  }

  private end(reason: SignOutReason, broadcast = true): void {
    const s = this.state;
    if (!s) return;
    this.ended.add(s.sid);
    this.state = null;
    this.store.save(null);
    clearTimeout(this.timer);
    if (broadcast) this.peers.post({ t: "signedout", from: this.peers.id, sid: s.sid, reason });
    this.emit("signedout", { reason, sid: s.sid });
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Adopts the newest tokens of the other tabs and of the store. Called with the lock held. */
  private async catchUp(): Promise<void> {
    for (const s of await this.peers.sync(this.o.syncTimeoutMs ?? 250)) this.adopt(s);
    this.adopt(this.store.load());
  }

  private aheadMs(s: TokenState): number {
    if (this.o.refreshAhead !== undefined) return this.o.refreshAhead * 1000;
    const life = s.expiresAt - s.issuedAt;
    return Math.min(Math.max(0.2 * life, 2000), 60000, life / 2);
  }

  private needsRefresh(s: TokenState): boolean {
    return this.now() >= s.expiresAt - this.aheadMs(s);
  }

  private schedule(minDelay = 0): void {
    clearTimeout(this.timer);
    const s = this.state;
    if (!s || this.closed || this.o.autoRefresh === false) return;
    // Tabs wake at slightly different times inside the refresh-ahead window, so that
    // one refreshes and the others find its tokens when they get the lock.
    const ahead = this.aheadMs(s);
    const delay = Math.max(minDelay, s.expiresAt - ahead - this.now() + Math.random() * ahead * 0.25);
    this.timer = setTimeout(() => {
      this.refresh()
        .catch(() => {})
        .finally(() => {
          // Nothing new (the service was unreachable): try again in a second.
          if (this.state === s) this.schedule(1000);
        });
    }, delay);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async current(): Promise<TokenState> {
    await this.ready;
    const s = this.state;
    if (!s) throw new SignedOutError();
    if (!this.needsRefresh(s)) return s;
    return this.refresh(s.accessToken);
  }

  /**
   * Rotates the refresh token once per browser: one refresh in flight per tab,
   * one tab at a time under the lock, and a tab that gets the lock after
   * another has rotated takes that tab's tokens instead of refreshing again.
   * `stale` is an access token known to be refused: refresh even if it looks fresh.
   */
  private refresh(stale?: string): Promise<TokenState> {
    if (!this.inflight) {
      this.inflight = this.locks
        .request(this.lockName, () => this.refreshLocked(stale))
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  private async refreshLocked(stale?: string): Promise<TokenState> {
    await this.catchUp();
    const s = this.state;
    if (!s) throw new SignedOutError();
    if (s.accessToken !== stale && !this.needsRefresh(s)) return s;
    const retries = this.o.refreshRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        const next = await this.tokenRequest(
          { grant_type: "refresh_token", refresh_token: s.refreshToken, client_id: this.o.clientId },
          s,
        );
        this.stats.refreshes++;
        if (this.state === null || this.ended.has(s.sid)) throw new SignedOutError("signed out during the refresh");
        this.set(next);
        return next;
      } catch (e) {
        if (!(e instanceof TokenError)) throw e;
        if (e.transient && attempt < retries) {
          // The answer may have been lost after the service rotated the token: sending
          // the same token again is what the service's grace window is for.
          this.stats.refreshRetries++;
          await sleep(backoff(attempt));
          continue;
        }
        if (e.code === "invalid_grant") {
          this.end("session_ended");
          throw new SignedOutError("the session has ended");
        }
        if (e.transient && s.expiresAt > this.now()) return s; // still usable; try again later
        throw e;
      }
    }
  }

  private async tokenRequest(params: Record<string, string>, prev: TokenState | null): Promise<TokenState> {
    const started = this.now();
    const res = await this.post(this.ep.token, params, "token");
    const body = await res.json().catch(() => null);
    if (!res.ok) throw tokenErrorOf(res.status, body);
    if (!body || typeof body.access_token !== "string" || typeof body.expires_in !== "number") {
      throw new TokenError("invalid_response", res.status, "token answer without access_token or expires_in");
    }
    const refreshToken = typeof body.refresh_token === "string" ? body.refresh_token : prev?.refreshToken;
    if (!refreshToken) throw new TokenError("invalid_response", res.status, "token answer without refresh_token");
    const claims = decodeClaims(body.access_token);
    const sid = typeof claims.sid === "string" ? claims.sid : prev?.sid ?? refreshToken.split(".")[0]!;
    return {
      accessToken: body.access_token,
      tokenType: typeof body.token_type === "string" ? body.token_type : "Bearer",
      expiresAt: started + body.expires_in * 1000,
      issuedAt: started,
      refreshToken,
      scope: typeof body.scope === "string" ? body.scope : prev?.scope ?? "",
      sid,
      gen: prev && prev.sid === sid ? prev.gen + 1 : 0,
    };
  }

  private async revokeRequest(refreshToken: string): Promise<void> {
    const res = await this.post(
      this.ep.revoke,
      { token: refreshToken, token_type_hint: "refresh_token", client_id: this.o.clientId },
      "revoke",
    );
    if (!res.ok) throw tokenErrorOf(res.status, await res.json().catch(() => null));
  }

  private async post(url: string, params: Record<string, string>, kind: OutgoingRequest["kind"]): Promise<Response> {
    const body = new URLSearchParams(params).toString();
    for (let again = true; ; again = false) {
      const headers = new Headers({ "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" });
      const out: OutgoingRequest = { kind, method: "POST", url, headers };
      await this.o.signRequest?.(out);
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method: "POST", headers, body, credentials: "omit", cache: "no-store" });
      } catch (e) {
        throw new TokenError("network_error", 0, e instanceof Error ? e.message : String(e));
      }
      if (!again || !(await this.o.retryOnResponse?.(out, res))) return res;
    }
  }

  private async send(req: Request, s: TokenState, kind: OutgoingRequest["kind"]): Promise<Response> {
    const spare = this.o.retryOnResponse ? req.clone() : null;
    for (let r = req; ; ) {
      const headers = new Headers(r.headers);
      headers.set("Authorization", `${s.tokenType} ${s.accessToken}`);
      const out: OutgoingRequest = { kind, method: r.method, url: r.url, headers, accessToken: s.accessToken };
      await this.o.signRequest?.(out);
      const res = await this.fetchImpl(new Request(r, { headers }));
      if (!spare || r === spare || !(await this.o.retryOnResponse?.(out, res))) return res;
      r = spare;
    }
  }

  /** A call to the token service's Bearer endpoints, with the same 401 handling as fetch. */
  private async fetchKind(url: string, init: RequestInit, kind: OutgoingRequest["kind"]): Promise<Response> {
    const s = await this.current();
    const req = new Request(url, { ...init, credentials: "omit", cache: "no-store" });
    const res = await this.send(req.clone(), s, kind);
    if (res.status !== 401) return res;
    const fresh = await this.afterUnauthorized(s);
    return fresh ? this.send(req, fresh, kind) : res;
  }

  /**
   * The tokens to retry a refused call with, or null to hand the 401 back: the
   * session ended, or a refresh forced by a 401 happened less than a second ago
   * (an API that refuses every token must not make each call rotate the session).
   */
  private async afterUnauthorized(s: TokenState): Promise<TokenState | null> {
    if (this.state && this.state.accessToken !== s.accessToken) return this.state; // rotated meanwhile
    if (this.now() - this.lastForced < 1000) return null;
    this.lastForced = this.now();
    try {
      return await this.refresh(s.accessToken);
    } catch (e) {
      if (e instanceof SignedOutError) return null;
      throw e;
    }
  }
}

function pickStore(choice: NonNullable<ShortfuseOptions["refreshTokenStorage"]>, key: string): RefreshStore {
  if (typeof choice === "object") return choice;
  const g = globalThis as { sessionStorage?: Storage; localStorage?: Storage };
  switch (choice) {
    case "memory":
      return memoryStore();
    case "session":
      if (!g.sessionStorage) throw new TypeError("refreshTokenStorage 'session': no sessionStorage here");
      return webStorageStore(g.sessionStorage, key);
    case "local":
      if (!g.localStorage) throw new TypeError("refreshTokenStorage 'local': no localStorage here");
      return webStorageStore(g.localStorage, key);
    default:
      throw new TypeError(`refreshTokenStorage: unknown value ${String(choice)}`);
  }
}

/** The payload of a JWT, decoded without any verification; {} if it is not one. */
export function decodeClaims(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1];
  if (!part) return {};
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bin = atob(b64);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const v = JSON.parse(new TextDecoder().decode(bytes));
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}

function tokenErrorOf(status: number, body: unknown): TokenError {
  const b = (body && typeof body === "object" ? body : {}) as { error?: unknown; error_description?: unknown };
  return new TokenError(
    typeof b.error === "string" ? b.error : `http_${status}`,
    status,
    typeof b.error_description === "string" ? b.error_description : undefined,
  );
}

async function errorOf(res: Response): Promise<TokenError> {
  return tokenErrorOf(res.status, await res.json().catch(() => null));
}

function backoff(attempt: number): number {
  return Math.min(200 * 2 ** attempt, 2000) * (0.5 + Math.random() / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
