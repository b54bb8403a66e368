// DPoP in real Chromium against the local stack: the SDK signs in with a
// non-extractable key kept in IndexedDB and calls the token service with
// bound tokens; the access token, copied out of the page, is refused from
// another browser context and from outside the browser, with or without a
// proof captured from the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";

import { cognito, launch, startStack } from "./harness.mjs";

let stack;
let browser;

before(
  async () => {
    stack = await startStack();
    browser = await launch();
  },
  { timeout: 300_000 },
);

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A new user's Cognito ID token. */
async function idToken() {
  const { config } = stack;
  const email = `dpop-${Date.now()}@trusted.example`;
  const password = "Dp0p-password!";
  await cognito(config, "SignUp", { ClientId: config.clientId, Username: email, Password: password, UserAttributes: [{ Name: "email", Value: email }] });
  const out = await cognito(config, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: config.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return out.AuthenticationResult.IdToken;
}

async function openPage(context) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  // The demo's origin serves the SDK at sdk/ and lets the page reach the token service.
  await page.goto(stack.demoUrl);
  return page;
}

/** A proof made outside the browser with a key of the thief's own. */
async function thiefProof(method, url, accessToken) {
  const b64 = (b) => Buffer.from(b).toString("base64url");
  const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  const jwk = await webcrypto.subtle.exportKey("jwk", pair.publicKey);
  const header = b64(JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y } }));
  const u = new URL(url);
  const ath = b64(await webcrypto.subtle.digest("SHA-256", Buffer.from(accessToken)));
  const claims = b64(JSON.stringify({ htm: method, htu: u.origin + u.pathname, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ath }));
  const sig = await webcrypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, Buffer.from(`${header}.${claims}`));
  return `${header}.${claims}.${b64(sig)}`;
}

test("a DPoP-bound token copied out of the page is refused elsewhere", { timeout: 120_000 }, async () => {
  const page = await openPage(browser.context);
  const got = await page.evaluate(
    async ({ idToken, issuer, clientId }) => {
      const sdk = await import(new URL("sdk/index.js", location.href).href);
      const dpop = await sdk.createDPoP();
      const client = new sdk.ShortfuseClient({ issuer, clientId, getIdToken: async () => idToken, channel: null, ...dpop.clientOptions() });
      await client.signIn();
      const { sessions } = await client.listSessions();
      // The key as IndexedDB holds it: the private half cannot be exported.
      const stored = await sdk.indexedDBStore().load();
      let exported = true;
      try {
        await crypto.subtle.exportKey("jwk", stored.privateKey);
      } catch {
        exported = false;
      }
      const sessionsUrl = issuer.replace(/\/+$/, "") + "/sessions";
      const accessToken = await client.accessToken();
      // A proof the page made and used once, as a thief watching the traffic would see it.
      const proof = await dpop.proof("GET", sessionsUrl, accessToken);
      const used = await fetch(sessionsUrl, { headers: { Authorization: `DPoP ${accessToken}`, DPoP: proof } });
      return {
        listed: sessions.length,
        claims: client.session.claims,
        jkt: dpop.jkt,
        extractable: stored.privateKey.extractable,
        exported,
        accessToken,
        proof,
        usedStatus: used.status,
        sessionsUrl,
      };
    },
    { idToken: await idToken(), issuer: stack.config.tokenServiceUrl, clientId: stack.config.clientId },
  );
  assert.ok(got.listed > 0, "the page signed in and listed its sessions with DPoP");
  assert.equal(got.claims.cnf?.jkt, got.jkt, "the access token is bound to the page's key");
  assert.equal(got.extractable, false);
  assert.equal(got.exported, false, "the private key cannot be exported");
  assert.equal(got.usedStatus, 200, "the page's own proof works once");

  const { accessToken, proof, sessionsUrl } = got;
  const call = async (headers) => (await fetch(sessionsUrl, { headers })).status;
  // Outside the browser: as Bearer, without a proof, with the page's proof replayed, with the thief's own key.
  assert.equal(await call({ Authorization: `Bearer ${accessToken}` }), 401, "bound token as Bearer");
  assert.equal(await call({ Authorization: `DPoP ${accessToken}` }), 401, "no proof");
  assert.equal(await call({ Authorization: `DPoP ${accessToken}`, DPoP: proof }), 401, "replayed proof");
  assert.equal(await call({ Authorization: `DPoP ${accessToken}`, DPoP: await thiefProof("GET", sessionsUrl, accessToken) }), 401, "another key");

  // Another browser (its own profile, so its own IndexedDB and key) with the copied token.
  const other = await launch();
  try {
    const p2 = await openPage(other.context);
    const status = await p2.evaluate(
      async ({ accessToken, sessionsUrl }) => {
        const sdk = await import(new URL("sdk/index.js", location.href).href);
        const dpop = await sdk.createDPoP();
        const proof = await dpop.proof("GET", sessionsUrl, accessToken);
        return (await fetch(sessionsUrl, { headers: { Authorization: `DPoP ${accessToken}`, DPoP: proof } })).status;
      },
      { accessToken, sessionsUrl },
    );
    assert.equal(status, 401, "copied token with another context's key");
  } finally {
    await other.close();
  }

  // The page itself still works: its key is still in IndexedDB.
  const again = await page.evaluate(
    async ({ accessToken, sessionsUrl }) => {
      const sdk = await import(new URL("sdk/index.js", location.href).href);
      const dpop = await sdk.createDPoP();
      return (await fetch(sessionsUrl, { headers: { Authorization: `DPoP ${accessToken}`, DPoP: await dpop.proof("GET", sessionsUrl, accessToken) } })).status;
    },
    { accessToken, sessionsUrl },
  );
  assert.equal(again, 200, "the key survives in IndexedDB and keeps working");
  assert.ok(!stack.log().includes(accessToken), "the token never reached a log");
});
