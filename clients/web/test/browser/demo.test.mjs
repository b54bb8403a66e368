// The demo and the SDK in real Chromium against the local stack: sign-in, a
// call and sign-out; five tabs sharing one session with 10-second access
// tokens; a refresh answer lost on the way; an admin revocation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { adminToken, launch, startStack, ROOT } from "./harness.mjs";

const ACCESS_TTL = 10; // seconds
const TABS = 5;
const SOAK = Number(process.env.SHORTFUSE_BROWSER_SOAK_SECONDS || 60);
const PASSWORD = "Corr3ct-horse!";

let stack;
let browser;
let users = 0;

before(
  async () => {
    stack = await startStack({ env: { SHORTFUSE_ACCESS_TOKEN_TTL: String(ACCESS_TTL) } });
    browser = await launch();
  },
  { timeout: 300_000 },
);

after(async () => {
  await browser?.close();
  await stack?.stop();
});

// The token service logs "event":"refresh_token_reuse" when reuse revokes a session,
// and "refresh_grace" when it accepts the previous token inside its grace window.
const reuseEvents = () => (stack.log().match(/"event":"refresh_token_reuse"/g) || []).length;
const graceEvents = () => (stack.log().match(/"event":"refresh_grace"/g) || []).length;

async function openDemo() {
  const page = await browser.context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  page.on("console", (m) => m.type() === "error" && console.error("page console:", m.text()));
  await page.goto(stack.demoUrl);
  await page.waitForFunction(() => window.demo !== undefined);
  return page;
}

/** Signs a new user up (auto-confirmed domain) and in through the demo's form. */
async function signUpAndIn(page) {
  const email = `user${++users}-${Date.now()}@trusted.example`;
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("button[value=signup]");
  try {
    await page.waitForSelector("#app:not([hidden])", { timeout: 15_000 });
  } catch (e) {
    throw new Error(`not signed in: ${await page.textContent("#status")}; events: ${await page.textContent("#log")}`, { cause: e });
  }
  return email;
}

/** Opens more tabs of the demo; each joins the session of the first. */
async function joinTabs(n) {
  const pages = [];
  for (let i = 0; i < n; i++) {
    const p = await openDemo();
    await p.waitForFunction(() => window.demo.client.signedIn, null, { timeout: 5000 });
    pages.push(p);
  }
  return pages;
}

/** In the page: call the protected route back to back for ms, counting answers. */
function callFor(page, ms, { pause = 50, untilSignedOut = false } = {}) {
  return page.evaluate(
    async ({ ms, pause, untilSignedOut }) => {
      const { client, api, config } = window.demo;
      const url = api(config.protectedPath);
      const c = { calls: 0, ok: 0, s401: 0, other: 0, errors: 0, lastError: "" };
      const end = Date.now() + ms;
      while (Date.now() < end && !(untilSignedOut && !client.signedIn)) {
        try {
          const r = await client.fetch(url);
          await r.arrayBuffer();
          c.calls++;
          if (r.status === 200) c.ok++;
          else if (r.status === 401) c.s401++;
          else c.other++;
        } catch (e) {
          if (!(untilSignedOut && !client.signedIn)) {
            c.errors++;
            c.lastError = String(e);
          }
        }
        await new Promise((r) => setTimeout(r, pause));
      }
      return { ...c, stats: { ...client.stats }, signedIn: client.signedIn };
    },
    { ms, pause, untilSignedOut },
  );
}

test("sign up, sign in, call the API, list sessions, sign out", { timeout: 120_000 }, async () => {
  const page = await openDemo();
  await signUpAndIn(page);
  await page.click("#call");
  await page.waitForFunction(() => /^200 /.test(document.querySelector("#answer").textContent));
  // The page redraws the remaining life every 200 ms: wait for a value in
  // (0, ACCESS_TTL] instead of reading one frame.
  const lifeOK = await page
    .waitForFunction((ttl) => { const v = parseFloat(document.querySelector("#remaining").textContent); return v > 0 && v <= ttl; }, ACCESS_TTL, { timeout: 3000 })
    .then(() => true, () => false);
  assert.ok(lifeOK, `remaining life ${await page.textContent("#remaining")}`);
  await page.click("#sessions");
  await page.waitForSelector("#sessionlist:not([hidden]) tbody tr");
  assert.match(await page.textContent("#sessionlist tbody"), /this browser/);
  if (process.env.SHORTFUSE_SCREENSHOT) {
    await page.screenshot({ path: path.resolve(ROOT, process.env.SHORTFUSE_SCREENSHOT), fullPage: true });
  }

  const sid = await page.evaluate(() => window.demo.client.session.sid);
  await page.click("#signout");
  await page.waitForSelector("#auth:not([hidden])");
  assert.equal(await page.evaluate(() => window.demo.client.signedIn), false);
  assert.match(await page.textContent("#log"), /session revoked at the token service/);
  assert.match(await page.textContent("#log"), /Cognito refresh token revoked/);
  assert.ok(sid);
  await page.close();
});

test(`${TABS} tabs, ${ACCESS_TTL}-second access tokens, calling for ${SOAK} s: no 401, no reuse`, { timeout: (SOAK + 120) * 1000 }, async () => {
  const reuseBefore = reuseEvents();
  const graceBefore = graceEvents();
  const first = await openDemo();
  await signUpAndIn(first);
  const pages = [first, ...(await joinTabs(TABS - 1))];
  const sids = await Promise.all(pages.map((p) => p.evaluate(() => window.demo.client.session.sid)));
  assert.equal(new Set(sids).size, 1, "all tabs share one session");

  const results = await Promise.all(pages.map((p) => callFor(p, SOAK * 1000)));
  const sum = (f) => results.reduce((n, r) => n + f(r), 0);
  const totals = {
    tabs: TABS,
    seconds: SOAK,
    calls: sum((r) => r.calls),
    ok: sum((r) => r.ok),
    refreshes: sum((r) => r.stats.refreshes),
    refreshRetries: sum((r) => r.stats.refreshRetries),
    "401 seen by the SDK": sum((r) => r.stats.unauthorized),
    "401 after retry": sum((r) => r.s401),
    "other status": sum((r) => r.other),
    errors: sum((r) => r.errors),
    "reuse revocations": reuseEvents() - reuseBefore,
    "grace-window answers": graceEvents() - graceBefore,
  };
  console.log("multi-tab run:", JSON.stringify(totals));
  for (const r of results) assert.equal(r.errors, 0, r.lastError);
  assert.equal(totals["401 seen by the SDK"], 0);
  assert.equal(totals["401 after retry"], 0);
  assert.equal(totals["reuse revocations"], 0);
  assert.equal(totals.calls, totals.ok);
  assert.ok(totals.refreshes >= Math.floor(SOAK / ACCESS_TTL), `only ${totals.refreshes} refreshes`);
  assert.ok(results.every((r) => r.signedIn));
  const { sessions } = await first.evaluate(() => window.demo.client.listSessions());
  assert.equal(sessions.find((s) => s.current)?.active, true, "the session is alive");
  for (const p of pages) await p.close();
});

// The retry presents the rotated token again: the token service's refresh grace
// window (SHORTFUSE_REFRESH_GRACE) accepts it.
test("a refresh answer lost on the way: the SDK retries and the session lives", { timeout: 120_000 }, async () => {
  const reuseBefore = reuseEvents();
  const graceBefore = graceEvents();
  const page = await openDemo();
  await signUpAndIn(page);
  let dropped = 0;
  await page.route("**/token", async (route) => {
    const body = route.request().postData() || "";
    if (dropped === 0 && route.request().method() === "POST" && body.includes("grant_type=refresh_token")) {
      dropped++;
      await route.fetch(); // the service rotates the token...
      await route.abort("connectionreset"); // ...and the answer never reaches the page
      return;
    }
    await route.continue();
  });
  // Calls across two refreshes: the lost one, retried, and the next, which shows the
  // token the retry got is the live one.
  const r = await callFor(page, (2 * ACCESS_TTL + 2) * 1000, { pause: 200 });
  console.log("dropped refresh:", JSON.stringify({ dropped, graceAnswers: graceEvents() - graceBefore, ...r }));
  assert.equal(dropped, 1);
  assert.ok(r.stats.refreshRetries >= 1, "the refresh was retried");
  assert.ok(r.stats.refreshes >= 2, `${r.stats.refreshes} refreshes`);
  assert.equal(r.errors, 0, r.lastError);
  assert.equal(r.s401, 0);
  assert.equal(r.signedIn, true);
  assert.equal(reuseEvents() - reuseBefore, 0, "no reuse revocation");
  assert.ok(graceEvents() - graceBefore >= 1, "the retry was answered inside the grace window");
  const { sessions } = await page.evaluate(() => window.demo.client.listSessions());
  assert.equal(sessions.find((s) => s.current)?.active, true);
  await page.close();
});

test("an admin revocation signs out every tab", { timeout: 180_000 }, async () => {
  const first = await openDemo();
  await signUpAndIn(first);
  const pages = [first, ...(await joinTabs(TABS - 1))];
  const sub = await first.evaluate(() => window.demo.client.session.claims.sub);
  for (const p of pages) {
    await p.evaluate(() => {
      window.signedOutAt = 0;
      window.demo.client.addEventListener("signedout", () => (window.signedOutAt = Date.now()));
    });
  }
  // One tab calls every 200 ms; the others are idle.
  const calling = callFor(first, 60_000, { pause: 200, untilSignedOut: true });
  await new Promise((r) => setTimeout(r, 1000));

  const admin = await adminToken(stack.config);
  const revokedAt = Date.now();
  const res = await fetch(`${stack.config.tokenServiceUrl.replace(/\/+$/, "")}/admin/users/${encodeURIComponent(sub)}/revoke`, {
    method: "POST",
    headers: { Authorization: `Bearer ${admin}` },
  });
  assert.equal(res.status, 200, await res.text());

  // The documented bound for every tab: the revocation reaches the gateway within
  // the stack's revocation bound (poll + gateway cache; 1 s by default), and a tab
  // learns it at its next call or, idle, at its next refresh, within one
  // access-token lifetime.
  const bound = (ACCESS_TTL + (stack.config.revocationBoundSeconds ?? 1)) * 1000;
  const times = [];
  for (const p of pages) {
    await p.waitForFunction(() => window.signedOutAt > 0, null, { timeout: bound + 5000 });
    times.push((await p.evaluate(() => window.signedOutAt)) - revokedAt);
  }
  const r = await calling;
  console.log("admin revocation: tabs signed out after (ms)", JSON.stringify(times), "calls before:", r.calls);
  for (const t of times) assert.ok(t <= bound, `signed out after ${t} ms, bound ${bound} ms`);
  for (const p of pages) assert.match(await p.textContent("#status"), /signed out/);
  for (const p of pages) await p.close();
});
