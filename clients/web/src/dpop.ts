import type { OutgoingRequest } from "./client.js";
import type { LockManagerLike } from "./tabs.js";

/**
 * DPoP (RFC 9449) for {@link ShortfuseClient}: a P-256 key the page cannot
 * export, kept in IndexedDB so that it survives reloads, and a proof signed
 * with it for every request. Tokens issued to a DPoP client are bound to the
 * key (`cnf.jkt`): copied out of the page, they are refused without it.
 *
 *     const dpop = await createDPoP();
 *     const client = new ShortfuseClient({ ...options, ...dpop.clientOptions() });
 */

/** Where the key pair lives; the default is IndexedDB. */
export interface KeyStore {
  load(): Promise<CryptoKeyPair | null>;
  save(pair: CryptoKeyPair): Promise<void>;
  clear(): Promise<void>;
}

export interface DPoPOptions {
  /** Where the key pair is kept (default: IndexedDB database `shortfuse-dpop`, key `key`). */
  keyStore?: KeyStore;
  /** WebCrypto (default `globalThis.crypto`). */
  crypto?: Crypto;
  now?: () => number;
  /** Web Locks API, so that tabs opening together share one key (default `navigator.locks`; null for none). */
  locks?: LockManagerLike | null;
  /**
   * Called when an answer asks for a stronger or more recent sign-in
   * (RFC 9470 `insufficient_user_authentication`): sign the user in again,
   * within `maxAge` seconds or with one of `acrValues`, then retry.
   */
  onStepUp?: (info: StepUp) => void;
}

/** What an `insufficient_user_authentication` challenge asks for. */
export interface StepUp {
  maxAge?: number;
  acrValues?: string[];
  url: string;
}

/** A DPoP key and the hooks that sign a client's requests with it. */
export interface DPoP {
  /** RFC 7638 thumbprint of the public key: the `cnf.jkt` of bound tokens. */
  readonly jkt: string;
  /** The public key, as proofs carry it. */
  readonly publicJwk: JsonWebKey;
  /** A proof for one request (`ath` when an access token goes with it). */
  proof(method: string, url: string, accessToken?: string): Promise<string>;
  /** `signRequest` and `retryOnResponse` for {@link ShortfuseOptions}. */
  clientOptions(): {
    signRequest: (req: OutgoingRequest) => Promise<void>;
    retryOnResponse: (req: OutgoingRequest, res: Response) => Promise<boolean>;
  };
  /** Forgets the key (at sign-out, say): tokens bound to it become useless everywhere. */
  forget(): Promise<void>;
}

const ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

/** Loads this origin's DPoP key, or makes one (non-extractable) the first time. */
export async function createDPoP(options: DPoPOptions = {}): Promise<DPoP> {
  const crypto = options.crypto ?? globalThis.crypto;
  if (!crypto?.subtle) throw new TypeError("DPoP needs WebCrypto (a secure context)");
  const store = options.keyStore ?? indexedDBStore();
  const now = options.now ?? Date.now;
  const loadOrMake = async (): Promise<CryptoKeyPair> => {
    const found = await store.load();
    if (found) return found;
    // extractable: false applies to the private key; the public one is always exportable.
    const made = (await crypto.subtle.generateKey(ALG, false, ["sign", "verify"])) as CryptoKeyPair;
    await store.save(made);
    return made;
  };
  // Tabs opening together must not each make a key: the session would be
  // bound to one and the others would sign with theirs.
  const locks = options.locks === undefined ? (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks : options.locks;
  const kp = locks ? await locks.request("shortfuse:dpop-key", loadOrMake) : await loadOrMake();
  const jwk = await crypto.subtle.exportKey("jwk", kp.publicKey);
  const publicJwk: JsonWebKey = { kty: "EC", crv: "P-256", x: jwk.x!, y: jwk.y! };
  const jkt = await thumbprint(crypto, publicJwk);
  const header = b64url(utf8(JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk: publicJwk })));
  // The latest server nonce per origin (RFC 9449 §8).
  const nonces = new Map<string, string>();

  const proof = async (method: string, url: string, accessToken?: string): Promise<string> => {
    const u = new URL(url);
    const claims: Record<string, unknown> = {
      jti: b64url(crypto.getRandomValues(new Uint8Array(16))),
      htm: method.toUpperCase(),
      htu: u.origin + u.pathname,
      iat: Math.floor(now() / 1000),
    };
    if (accessToken) claims.ath = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(accessToken))));
    const nonce = nonces.get(u.origin);
    if (nonce) claims.nonce = nonce;
    const input = header + "." + b64url(utf8(JSON.stringify(claims)));
    const sig = new Uint8Array(await crypto.subtle.sign(SIGN, kp.privateKey, utf8(input)));
    return input + "." + b64url(sig);
  };

  const signRequest = async (req: OutgoingRequest): Promise<void> => {
    req.headers.set("DPoP", await proof(req.method, req.url, req.accessToken));
  };

  const retryOnResponse = async (req: OutgoingRequest, res: Response): Promise<boolean> => {
    const origin = new URL(req.url).origin;
    const fresh = res.headers.get("DPoP-Nonce");
    const had = nonces.get(origin);
    if (fresh) nonces.set(origin, fresh);
    const challenge = res.headers.get("WWW-Authenticate") ?? "";
    if (options.onStepUp && /insufficient_user_authentication/.test(challenge)) {
      options.onStepUp({ ...stepUpOf(challenge), url: req.url });
    }
    if (!fresh || fresh === had) return false;
    if (res.status === 401) return /use_dpop_nonce/.test(challenge);
    if (res.status === 400) {
      const body = await res.clone().json().catch(() => null);
      return body?.error === "use_dpop_nonce";
    }
    return false;
  };

  return {
    jkt,
    publicJwk,
    proof,
    clientOptions: () => ({ signRequest, retryOnResponse }),
    forget: () => store.clear(),
  };
}

/** Parses the max_age and acr_values of an RFC 9470 challenge. */
export function stepUpOf(challenge: string): { maxAge?: number; acrValues?: string[] } {
  const out: { maxAge?: number; acrValues?: string[] } = {};
  const age = /max_age="?(\d+)"?/.exec(challenge);
  if (age) out.maxAge = Number(age[1]);
  const acr = /acr_values="([^"]*)"/.exec(challenge);
  if (acr) out.acrValues = acr[1]!.split(" ").filter(Boolean);
  return out;
}

/** RFC 7638 thumbprint of a P-256 public JWK. */
async function thumbprint(crypto: Crypto, jwk: JsonWebKey): Promise<string> {
  const canonical = `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
  return b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(canonical))));
}

/** The key pair in IndexedDB: CryptoKeys are stored as they are, never exported. */
export function indexedDBStore(dbName = "shortfuse-dpop", key = "key"): KeyStore {
  const open = (): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      const req = indexedDB.open(dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore("keys");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  const run = async <T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await open();
    try {
      return await new Promise<T>((resolve, reject) => {
        const r = f(db.transaction("keys", mode).objectStore("keys"));
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    } finally {
      db.close();
    }
  };
  return {
    load: async () => ((await run("readonly", (s) => s.get(key))) as CryptoKeyPair | undefined) ?? null,
    save: async (pair) => {
      await run("readwrite", (s) => s.put(pair, key));
    },
    clear: async () => {
      await run("readwrite", (s) => s.delete(key));
    },
  };
}

/** A key store in memory, for tests and pages that want a key per load. */
export function memoryKeyStore(): KeyStore {
  let pair: CryptoKeyPair | null = null;
  return {
    load: async () => pair,
    save: async (p) => {
      pair = p;
    },
    clear: async () => {
      pair = null;
    },
  };
}

function utf8(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s);
}

function b64url(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
