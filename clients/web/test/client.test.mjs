import { test } from "node:test";
import assert from "node:assert/strict";

import {
  ShortfuseClient,
  SignedOutError,
  TokenError,
  decodeClaims,
  localLocks,
  memoryStore,
  revokeCognitoRefreshToken,
  webStorageStore,
} from "../dist/index.js";
import { FakeTokenService } from "./fakeserver.mjs";

let seq = 0;

/** A browser of `tabs` tabs sharing one lock manager and one channel name. */
function browser(server, { tabs = 1, clock, ...opts } = {}) {
  const issuer = `https://auth.example/b${++seq}`;
  const locks = localLocks();
  const make = () =>
    new ShortfuseClient({
      issuer,
      clientId: "web",
      getIdToken: async () => "id-token",
      fetch: rewrite(server.fetch),
      locks,
      autoRefresh: false,
      syncTimeoutMs: 50,
      now: clock ? () => clock.t : undefined,
      ...opts,
    });
  const list = Array.from({ length: tabs }, make);
  return { list, make, close: () => list.forEach((c) => c.close()) };
}

/** Maps https://auth.example/bN/x to the fake's /x. */
function rewrite(f) {
  return (input, init) => {
    const req = new Request(input, init);
    const u = new URL(req.url);
    u.pathname = u.pathname.replace(/^\/b\d+/, "");
    return f(new Request(u, req), undefined);
  };
}

test("sign-in exchanges the ID token (RFC 8693) and keeps the tokens", async (t) => {
  const srv = new FakeTokenService();
  const b = browser(srv, { scope: "read" });
  t.after(b.close);
  const [c] = b.list;
  await c.ready;
  assert.equal(c.signedIn, false);
  await assert.rejects(c.accessToken(), SignedOutError);
  const info = await c.signIn();
  assert.equal(info.sid, "s1");
  assert.equal(info.scope, "read");
  const sent = srv.log.find((e) => e.path === "/token").body;
  assert.deepEqual(sent, {
    grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
    subject_token: "id-token",
    subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
    client_id: "web",
    scope: "read",
  });
  assert.equal(decodeClaims(await c.accessToken()).sid, "s1");
  assert.equal(c.stats.exchanges, 1);
});

test("fetch attaches the token; a 401 is retried once after a refresh", async (t) => {
  const clock = { t: 1_000_000 };
  const srv = new FakeTokenService({ now: () => clock.t });
  const b = browser(srv, { clock });
  t.after(b.close);
  const [c] = b.list;
  await c.signIn();
  const res = await c.fetch("https://api.example/api", { method: "POST", body: "x" });
  assert.equal(res.status, 200);
  const call = srv.log.at(-1);
  assert.match(call.headers.authorization, /^Bearer ey/);

  // The API refuses the token once (e.g. it expired in flight): one refresh, one retry.
  let refused = 0;
  srv.intercept = (path) => (path === "/api" && refused++ === 0 ? new Response(null, { status: 401 }) : undefined);
  const again = await c.fetch("https://api.example/api", { method: "POST", body: "x" });
  assert.equal(again.status, 200);
  assert.equal(c.stats.unauthorized, 1);
  assert.equal(c.stats.refreshes, 1);

  // Always refused: exactly one retry, the 401 is handed back.
  clock.t += 1000;
  srv.intercept = (path) => (path === "/api" ? new Response(null, { status: 401 }) : undefined);
  const refusedRes = await c.fetch("https://api.example/api");
  assert.equal(refusedRes.status, 401);
  assert.equal(c.stats.unauthorizedAfterRetry, 1);
  assert.equal(c.stats.refreshes, 2);

  // An API that refuses everything: at most one forced refresh a second, not one per call.
  const many = await Promise.all(Array.from({ length: 20 }, () => c.fetch("https://api.example/api")));
  assert.ok(many.every((r) => r.status === 401));
  assert.equal(c.stats.refreshes, 2);
  clock.t += 1000;
  await c.fetch("https://api.example/api");
  assert.equal(c.stats.refreshes, 3);
});

test("the timer refreshes ahead of expiry without any call", async (t) => {
  const srv = new FakeTokenService({ lifetime: 5 });
  const b = browser(srv, { autoRefresh: true });
  t.after(b.close);
  const [c] = b.list;
  await c.signIn();
  const first = await c.accessToken();
  // 5-second tokens are refreshed 2 to 2.5 s ahead of expiry.
  await new Promise((resolve) => c.addEventListener("tokens", resolve, { once: true }));
  assert.equal(c.stats.refreshes, 1);
  assert.notEqual(await c.accessToken(), first);
});

test("one refresh for many concurrent calls in one tab", async (t) => {
  const clock = { t: 1_000_000 };
  const srv = new FakeTokenService({ lifetime: 10, now: () => clock.t });
  const b = browser(srv, { clock });
  t.after(b.close);
  const [c] = b.list;
  await c.signIn();
  clock.t += 9_000; // within the refresh-ahead margin
  const results = await Promise.all(Array.from({ length: 10 }, () => c.fetch("https://api.example/api")));
  assert.ok(results.every((r) => r.status === 200));
  assert.equal(c.stats.refreshes, 1);
  assert.equal(srv.reuse, 0);
});

test("tabs share one rotation: never the same refresh token twice", async (t) => {
  const clock = { t: 1_000_000 };
  const srv = new FakeTokenService({ lifetime: 10, now: () => clock.t });
  const b = browser(srv, { tabs: 4, clock });
  t.after(b.close);
  await Promise.all(b.list.map((c) => c.ready));
  await b.list[0].signIn();
  await new Promise((r) => setTimeout(r, 20)); // let the broadcast land
  assert.ok(b.list.every((c) => c.signedIn), "every tab learned the session");
  for (let round = 0; round < 5; round++) {
    clock.t += 9_000;
    const tokens = await Promise.all(b.list.flatMap((c) => [c.accessToken(), c.accessToken()]));
    assert.equal(new Set(tokens).size, 1, "all tabs hold the same token");
  }
  const refreshes = b.list.reduce((n, c) => n + c.stats.refreshes, 0);
  assert.equal(refreshes, 5);
  assert.equal(srv.reuse, 0);
  const presented = srv.log.filter((e) => e.body.grant_type === "refresh_token").map((e) => e.body.refresh_token);
  assert.equal(new Set(presented).size, presented.length, "no refresh token sent twice");
});

test("a new tab takes the session from an open one", async (t) => {
  const srv = new FakeTokenService();
  const b = browser(srv);
  t.after(b.close);
  await b.list[0].signIn();
  const late = b.make();
  t.after(() => late.close());
  await late.ready;
  assert.equal(late.signedIn, true);
  assert.equal(late.session.sid, "s1");
});

test("a lost refresh answer is retried with the same token and the session lives (grace window)", async (t) => {
  const clock = { t: 1_000_000 };
  const srv = new FakeTokenService({ lifetime: 10, graceMs: 10_000, now: () => clock.t });
  const b = browser(srv, { clock });
  t.after(b.close);
  const [c] = b.list;
  await c.signIn();
  clock.t += 9_000;
  let dropped = 0;
  srv.intercept = (path, body) => (path === "/token" && body.grant_type === "refresh_token" && dropped++ === 0 ? "drop" : undefined);
  const res = await c.fetch("https://api.example/api");
  assert.equal(res.status, 200);
  assert.equal(c.stats.refreshRetries, 1);
  assert.equal(srv.reuse, 0);
  assert.equal(srv.sessions.get("s1").revoked, false);
  // The retried answer's token is the live one: the next rotation works.
  clock.t += 9_000;
  assert.equal((await c.fetch("https://api.example/api")).status, 200);
  assert.equal(srv.reuse, 0);
});

test("503 from the token service: the old access token is used while it is valid", async (t) => {
  const clock = { t: 1_000_000 };
  const srv = new FakeTokenService({ lifetime: 10, now: () => clock.t });
  const b = browser(srv, { clock, refreshRetries: 1 });
  t.after(b.close);
  const [c] = b.list;
  await c.signIn();
  const before = await c.accessToken();
  clock.t += 9_000;
  srv.intercept = (path) => (path === "/token" ? new Response('{"error":"temporarily_unavailable"}', { status: 503 }) : undefined);
  assert.equal(await c.accessToken(), before);
  clock.t += 2_000; // expired now
  await assert.rejects(c.accessToken(), (e) => e instanceof TokenError && e.transient);
  assert.equal(c.signedIn, true, "a transient failure does not sign out");
});

test("an ended session signs out every tab", async (t) => {
  const srv = new FakeTokenService();
  const b = browser(srv, { tabs: 3 });
  t.after(b.close);
  await Promise.all(b.list.map((c) => c.ready));
  await b.list[0].signIn();
  await new Promise((r) => setTimeout(r, 20));
  const reasons = b.list.map((c) => new Promise((r) => c.addEventListener("signedout", (e) => r(e.detail.reason))));
  srv.sessions.get("s1").revoked = true; // an admin revocation
  const res = await b.list[1].fetch("https://api.example/api");
  assert.equal(res.status, 401);
  assert.deepEqual(await Promise.all(reasons), ["session_ended", "session_ended", "session_ended"]);
  assert.ok(b.list.every((c) => !c.signedIn));
  await assert.rejects(b.list[2].fetch("https://api.example/api"), SignedOutError);
});

test("sign-out revokes the session (RFC 7009) and ends it in every tab", async (t) => {
  const srv = new FakeTokenService();
  const b = browser(srv, { tabs: 2 });
  t.after(b.close);
  await Promise.all(b.list.map((c) => c.ready));
  await b.list[0].signIn();
  await new Promise((r) => setTimeout(r, 20));
  const other = new Promise((r) => b.list[1].addEventListener("signedout", (e) => r(e.detail)));
  const out = await b.list[0].signOut();
  assert.deepEqual(out, { sessionRevoked: true, sid: "s1" });
  const revoke = srv.log.find((e) => e.path === "/revoke").body;
  assert.equal(revoke.token_type_hint, "refresh_token");
  assert.equal(revoke.client_id, "web");
  assert.match(revoke.token, /^s1\./);
  assert.equal(srv.sessions.get("s1").revoked, true);
  assert.deepEqual(await other, { reason: "signed_out", sid: "s1" });
  assert.equal(b.list[1].signedIn, false);
  assert.deepEqual(await b.list[0].signOut(), { sessionRevoked: false, sid: null });
});

test("signing in while a session exists keeps it", async (t) => {
  const srv = new FakeTokenService();
  const b = browser(srv, { tabs: 2 });
  t.after(b.close);
  await Promise.all(b.list.map((c) => c.ready));
  await b.list[0].signIn();
  const again = await b.list[1].signIn();
  assert.equal(again.sid, "s1");
  assert.equal(srv.sessions.size, 1);
  assert.equal(b.list[1].stats.exchanges, 0);
});

test("sessions: list and end one", async (t) => {
  const srv = new FakeTokenService();
  const b = browser(srv);
  t.after(b.close);
  const [c] = b.list;
  await c.signIn();
  srv.sessions.set("other", { revoked: false });
  const { sessions } = await c.listSessions();
  assert.deepEqual(sessions.find((s) => s.current).id, "s1");
  await c.endSession("other");
  assert.equal(srv.sessions.get("other").revoked, true);
  assert.equal(c.signedIn, true);
  await c.endSession("s1");
  assert.equal(c.signedIn, false);
});

test("signRequest sees every request and its headers are sent", async (t) => {
  const srv = new FakeTokenService();
  const seen = [];
  const b = browser(srv, {
    signRequest: ({ kind, method, headers, accessToken }) => {
      seen.push(`${kind} ${method} ${accessToken ? "with-token" : "-"}`);
      headers.set("DPoP", `proof-${kind}`);
    },
  });
  t.after(b.close);
  const [c] = b.list;
  await c.signIn();
  await c.fetch("https://api.example/api");
  await c.listSessions();
  await c.signOut();
  assert.deepEqual(seen, ["token POST -", "api GET with-token", "sessions GET with-token", "revoke POST -"]);
  assert.deepEqual(srv.log.map((e) => e.headers.dpop), ["proof-token", "proof-api", "proof-sessions", "proof-revoke"]);
});

test("retryOnResponse sends a request once more, signed again", async (t) => {
  const srv = new FakeTokenService();
  let nonce = 0;
  const b = browser(srv, {
    signRequest: ({ headers }) => headers.set("DPoP", `proof-${nonce}`),
    retryOnResponse: (req, res) => {
      if (!res.headers.get("DPoP-Nonce")) return false;
      nonce++;
      return true;
    },
  });
  t.after(b.close);
  const [c] = b.list;
  const challenged = new Set();
  srv.intercept = (path) =>
    (path === "/token" || path === "/api") && !challenged.has(path) && challenged.add(path)
      ? new Response('{"error":"use_dpop_nonce"}', { status: path === "/token" ? 400 : 401, headers: { "DPoP-Nonce": "n1" } })
      : undefined;
  await c.signIn();
  assert.equal((await c.fetch("https://api.example/api", { method: "POST", body: "payload" })).status, 200);
  assert.deepEqual(srv.log.map((e) => `${e.path} ${e.headers.dpop}`), ["/token proof-0", "/token proof-1", "/api proof-1", "/api proof-2"]);
  assert.equal(c.stats.unauthorized, 0);
});

test("alone, without Web Locks or BroadcastChannel", async (t) => {
  const clock = { t: 1_000_000 };
  const srv = new FakeTokenService({ lifetime: 10, now: () => clock.t });
  const b = browser(srv, { clock, locks: null, channel: null });
  t.after(b.close);
  const [c] = b.list;
  await c.signIn();
  clock.t += 9_000;
  const tokens = await Promise.all([c.accessToken(), c.accessToken(), c.accessToken()]);
  assert.equal(new Set(tokens).size, 1);
  assert.equal(c.stats.refreshes, 1);
  await c.signOut();
  assert.equal(c.signedIn, false);
});

test("web storage keeps the session across page loads; garbage is ignored", async (t) => {
  const srv = new FakeTokenService();
  const storage = fakeStorage();
  const b = browser(srv, { refreshTokenStorage: webStorageStore(storage, "k"), channel: null });
  t.after(b.close);
  await b.list[0].signIn();
  assert.match(storage.getItem("k"), /refreshToken/);
  const reloaded = b.make();
  t.after(() => reloaded.close());
  await reloaded.ready;
  assert.equal(reloaded.session?.sid, "s1");
  await reloaded.signOut();
  assert.equal(storage.getItem("k"), null);

  storage.setItem("k", '{"accessToken":1}');
  assert.equal(webStorageStore(storage, "k").load(), null);
  storage.setItem("k", "not json");
  assert.equal(webStorageStore(storage, "k").load(), null);
  assert.equal(memoryStore().load(), null);
});

test("options are checked", () => {
  assert.throws(() => new ShortfuseClient({ clientId: "c", getIdToken: async () => "" }), /issuer/);
  assert.throws(() => new ShortfuseClient({ issuer: "https://x", getIdToken: async () => "" }), /clientId/);
  assert.throws(() => new ShortfuseClient({ issuer: "https://x", clientId: "c" }), /getIdToken/);
  assert.throws(
    () => new ShortfuseClient({ issuer: "https://x", clientId: "c", getIdToken: async () => "", refreshTokenStorage: "local", channel: null }),
    /localStorage/,
  );
});

test("decodeClaims never throws", () => {
  for (const bad of ["", "a", "a.b", "a.!!!.c", "a." + Buffer.from("[1]").toString("base64url") + ".c"]) {
    assert.equal(typeof decodeClaims(bad), "object");
  }
  assert.deepEqual(decodeClaims("x." + Buffer.from('{"sid":"é"}').toString("base64url") + ".y"), { sid: "é" });
});

test("revokeCognitoRefreshToken calls Cognito's RevokeToken", async () => {
  let got;
  await revokeCognitoRefreshToken({
    endpoint: "http://127.0.0.1:9229/",
    clientId: "c1",
    refreshToken: "rt",
    fetch: async (url, init) => {
      got = { url, target: init.headers["X-Amz-Target"], body: JSON.parse(init.body) };
      return new Response("{}", { status: 200 });
    },
  });
  assert.deepEqual(got, { url: "http://127.0.0.1:9229/", target: "AWSCognitoIdentityProviderService.RevokeToken", body: { Token: "rt", ClientId: "c1" } });
  await assert.rejects(
    revokeCognitoRefreshToken({ region: "eu-west-1", clientId: "c", refreshToken: "r", fetch: async () => new Response('{"__type":"UnauthorizedException"}', { status: 400 }) }),
    /UnauthorizedException/,
  );
});

function fakeStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
  };
}
