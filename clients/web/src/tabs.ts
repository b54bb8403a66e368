/**
 * Coordination between the tabs of one origin: an exclusive lock around
 * refreshes (Web Locks API) and a channel (BroadcastChannel) on which tabs
 * share the newest tokens, so that a rotated refresh token is never sent
 * twice. Without either API a tab falls back to coordinating with itself.
 */
import type { TokenState } from "./store.js";

/** The subset of the Web Locks API used here. */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** The subset of BroadcastChannel used here. */
export interface ChannelLike {
  postMessage(msg: unknown): void;
  close(): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

/** Messages between tabs. */
export type TabMessage =
  | { t: "hello"; from: string }
  | { t: "bye"; from: string }
  | { t: "sync"; from: string; nonce: string }
  | { t: "state"; from: string; nonce?: string; state: TokenState | null }
  | { t: "signedout"; from: string; sid: string; reason: string };

/** In-tab mutex used when the Web Locks API is missing. */
export function localLocks(): LockManagerLike {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, cb: () => Promise<T>): Promise<T> {
      const prev = tails.get(name) ?? Promise.resolve();
      const run = prev.then(cb, cb);
      const tail = run.catch(() => {});
      tails.set(name, tail);
      void tail.then(() => {
        if (tails.get(name) === tail) tails.delete(name);
      });
      return run;
    },
  };
}

export function randomId(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Peers tracks the other tabs on the channel and asks them for their newest
 * state. Replies are matched by nonce; a tab that does not answer a sync in
 * time is forgotten until it speaks again.
 */
export class Peers {
  readonly id = randomId();
  private known = new Set<string>();
  private waiting = new Map<string, { pending: Set<string>; got: (TokenState | null)[]; done: () => void }>();

  constructor(
    private channel: ChannelLike | null,
    private onMessage: (m: TabMessage) => void,
  ) {
    if (channel) channel.onmessage = (ev) => this.receive(ev.data);
  }

  get count(): number {
    return this.known.size;
  }

  post(m: TabMessage): void {
    try {
      this.channel?.postMessage(m);
    } catch {
      // A closed channel: this tab is going away.
    }
  }

  private receive(data: unknown): void {
    if (!data || typeof data !== "object") return;
    const m = data as TabMessage;
    if (typeof m.from !== "string" || m.from === this.id) return;
    if (m.t === "bye") {
      this.known.delete(m.from);
      return;
    }
    this.known.add(m.from);
    if (m.t === "state" && m.nonce) {
      const w = this.waiting.get(m.nonce);
      if (w) {
        w.got.push(m.state);
        w.pending.delete(m.from);
        if (w.pending.size === 0) w.done();
      }
    }
    this.onMessage(m);
  }

  /**
   * Asks every known tab for its state and resolves with the answers once
   * all have answered or after timeoutMs. Messages from one tab arrive in
   * order, so an answer also means every earlier message of that tab
   * (a rotation it broadcast) has been seen.
   */
  sync(timeoutMs: number): Promise<(TokenState | null)[]> {
    if (!this.channel || this.known.size === 0) return Promise.resolve([]);
    const nonce = randomId();
    const pending = new Set(this.known);
    return new Promise((resolve) => {
      const got: (TokenState | null)[] = [];
      const finish = () => {
        clearTimeout(timer);
        this.waiting.delete(nonce);
        for (const silent of pending) this.known.delete(silent);
        resolve(got);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiting.set(nonce, { pending, got, done: finish });
      this.post({ t: "sync", from: this.id, nonce });
    });
  }

  close(): void {
    this.post({ t: "bye", from: this.id });
    for (const w of this.waiting.values()) w.done();
    if (this.channel) {
      this.channel.onmessage = null;
      this.channel.close();
    }
    this.channel = null;
  }
}
