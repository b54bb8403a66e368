import { test } from "node:test";
import assert from "node:assert/strict";

import { createDPoP, memoryKeyStore, stepUpOf } from "../dist/index.js";

const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split(".")[i], "base64url").toString());

test("the key is made once, cannot be exported, and signs verifiable proofs", async () => {
  const store = memoryKeyStore();
  const d = await createDPoP({ keyStore: store });
  const again = await createDPoP({ keyStore: store });
  assert.equal(again.jkt, d.jkt, "the stored key is reused");
  const pair = await store.load();
  assert.equal(pair.privateKey.extractable, false);
  await assert.rejects(crypto.subtle.exportKey("jwk", pair.privateKey));

  const p = await d.proof("get", "https://api.example.com/v1/x?q=1#f", "the-token");
  const h = part(p, 0);
  const c = part(p, 1);
  assert.deepEqual(Object.keys(h).sort(), ["alg", "jwk", "typ"]);
  assert.equal(h.typ, "dpop+jwt");
  assert.equal(h.alg, "ES256");
  assert.equal(h.jwk.d, undefined, "no private member");
  assert.equal(c.htm, "GET");
  assert.equal(c.htu, "https://api.example.com/v1/x", "no query or fragment");
  assert.ok(c.jti.length >= 16);
  const ath = Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("the-token"))).toString("base64url");
  assert.equal(c.ath, ath);
  const [hb, cb, sb] = p.split(".");
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    pair.publicKey,
    Buffer.from(sb, "base64url"),
    new TextEncoder().encode(hb + "." + cb),
  );
  assert.ok(ok, "signature verifies");
  assert.notEqual(part(await d.proof("GET", "https://api.example.com/v1/x"), 1).jti, c.jti, "a new jti per proof");
});

test("a use_dpop_nonce answer is retried once with the nonce", async () => {
  const d = await createDPoP({ keyStore: memoryKeyStore() });
  const { signRequest, retryOnResponse } = d.clientOptions();
  const out = { kind: "token", method: "POST", url: "https://auth.example.com/token", headers: new Headers() };
  await signRequest(out);
  assert.equal(part(out.headers.get("DPoP"), 1).nonce, undefined);
  const refused = new Response(JSON.stringify({ error: "use_dpop_nonce" }), { status: 400, headers: { "DPoP-Nonce": "n1" } });
  assert.equal(await retryOnResponse(out, refused), true);
  await signRequest(out);
  assert.equal(part(out.headers.get("DPoP"), 1).nonce, "n1");
  // The same nonce refused again is not retried in a loop.
  assert.equal(await retryOnResponse(out, new Response("{}", { status: 400, headers: { "DPoP-Nonce": "n1" } })), false);
  // A resource server asks with 401 and a challenge.
  const api = { kind: "api", method: "GET", url: "https://auth.example.com/sessions", headers: new Headers(), accessToken: "t" };
  const r401 = new Response("", { status: 401, headers: { "DPoP-Nonce": "n2", "WWW-Authenticate": 'DPoP error="use_dpop_nonce"' } });
  assert.equal(await retryOnResponse(api, r401), true);
});

test("an insufficient_user_authentication challenge reaches onStepUp", async () => {
  const seen = [];
  const d = await createDPoP({ keyStore: memoryKeyStore(), onStepUp: (s) => seen.push(s) });
  const { retryOnResponse } = d.clientOptions();
  const req = { kind: "api", method: "GET", url: "https://api.example.com/payments", headers: new Headers(), accessToken: "t" };
  const res = new Response("", {
    status: 401,
    headers: { "WWW-Authenticate": 'DPoP error="insufficient_user_authentication", max_age=300, acr_values="a b"' },
  });
  assert.equal(await retryOnResponse(req, res), false);
  assert.deepEqual(seen, [{ maxAge: 300, acrValues: ["a", "b"], url: req.url }]);
  assert.deepEqual(stepUpOf('Bearer error="insufficient_user_authentication"'), {});
});

test("tabs opening together share one key", async () => {
  const { localLocks } = await import("../dist/index.js");
  const store = memoryKeyStore();
  const locks = localLocks();
  const all = await Promise.all(Array.from({ length: 5 }, () => createDPoP({ keyStore: store, locks })));
  assert.equal(new Set(all.map((d) => d.jkt)).size, 1);
});
