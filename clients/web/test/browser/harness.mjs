// Test harness for the browser tests: the local stack (cmd/devstack on free
// ports, stopped afterwards with everything it started), the demo's origin,
// and Debian's Chromium driven by playwright-core.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const ROOT = path.resolve(WEB, "../..");

/** Launch flags for Debian's chromium package (playwright adds --headless and a fresh profile dir). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function chromiumPath() {
  const p = process.env.CHROMIUM || "/usr/bin/chromium";
  if (!fs.existsSync(p)) throw new Error(`no Chromium at ${p}: apt-get install -y chromium, or set CHROMIUM`);
  return p;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts cmd/devstack with every port free and a state dir of its own. `env`
 * is added to its environment. Returns {endpoints, demoUrl, config, log(), stop()}.
 */
export async function startStack({ env = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shortfuse-browser-"));
  const bin = path.join(dir, "devstack");
  execFileSync("go", ["build", "-o", bin, "./cmd/devstack"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  // Every -<name>-port flag devstack has gets a free port.
  const h = spawnSync(bin, ["-h"], { cwd: ROOT, encoding: "utf8" });
  const help = `${h.stdout}${h.stderr}`;
  const names = [...new Set([...help.matchAll(/^\s+-([a-z0-9-]+)-port\b/gm)].map((m) => m[1]))];
  if (names.length === 0) throw new Error("devstack -h lists no -<name>-port flags");
  const args = ["-dir", path.join(dir, "state")];
  for (const n of names) args.push(`-${n}-port`, String(await freePort()));

  // A fallback origin for the demo while devstack has no demo service.
  const ownDemo = !names.includes("demo") ? await startDemoServer() : null;
  const childEnv = { ...process.env, SHORTFUSE_LOG_LEVEL: "info", ...env };
  if (ownDemo) childEnv.SHORTFUSE_CORS_ORIGINS = [childEnv.SHORTFUSE_CORS_ORIGINS, ownDemo.origin].filter(Boolean).join(",");
  for (const k of Object.keys(childEnv)) if (/^SHORTFUSE_.*_PORT$/.test(k)) delete childEnv[k];

  const logPath = path.join(dir, "devstack.log");
  const out = fs.openSync(logPath, "w");
  const child = spawn(bin, args, { cwd: ROOT, env: childEnv, stdio: ["ignore", out, out], detached: true });
  fs.closeSync(out);
  let exited = false;
  const exitedP = new Promise((r) => child.once("exit", () => ((exited = true), r())));
  const killAll = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
  process.once("exit", killAll);

  const stop = async () => {
    if (!exited) {
      try {
        process.kill(child.pid, "SIGINT");
      } catch {}
      await Promise.race([exitedP, sleep(20_000)]);
      if (!exited) killAll();
      await Promise.race([exitedP, sleep(5_000)]);
    }
    killAll(); // whatever of its group is left
    process.removeListener("exit", killAll);
    if (ownDemo) await ownDemo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const epFile = path.join(dir, "state", "endpoints.json");
  const deadline = Date.now() + 120_000;
  while (!fs.existsSync(epFile)) {
    if (exited || Date.now() > deadline) {
      const text = fs.readFileSync(logPath, "utf8");
      await stop();
      throw new Error(`devstack did not come up:\n${text.slice(-4000)}`);
    }
    await sleep(100);
  }
  const endpoints = JSON.parse(fs.readFileSync(epFile, "utf8"));
  let demoUrl = endpoints.demo_url;
  if (!demoUrl) {
    ownDemo.setStack(endpoints);
    demoUrl = ownDemo.origin + "/";
  }
  const config = await (await fetch(new URL("config.json", demoUrl))).json();
  return { endpoints, demoUrl, config, log: () => fs.readFileSync(logPath, "utf8"), stop };
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".map": "application/json", ".json": "application/json" };

/**
 * Serves the demo like devstack's demo service (/, /sdk/*, /config.json), for a
 * stack that has none; it also relays /_ts/* to the token service and /_gw/* to
 * the gateway, so the page needs no CORS from them.
 */
async function startDemoServer() {
  let stack = null;
  let origin = "";
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, "http://x");
    const relay = u.pathname.startsWith("/_ts/") ? stack.token_service_url : u.pathname.startsWith("/_gw/") ? stack.api_gateway_url : null;
    if (relay) {
      const target = new URL(u.pathname.slice(4) + u.search, relay);
      const headers = { ...req.headers, host: target.host };
      delete headers.origin;
      const up = http.request(target, { method: req.method, headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
      return;
    }
    if (u.pathname === "/config.json") {
      res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      res.end(
        JSON.stringify({
          tokenServiceUrl: origin + "/_ts",
          apiUrl: origin + "/_gw",
          cognitoEndpoint: stack.cognito_endpoint,
          userPoolId: stack.user_pool_id,
          clientId: stack.client_id,
          region: stack.region,
          protectedPath: "/hello",
          sesWebUrl: stack.ses_web_url,
          adminGroup: "shortfuse-admin",
          table: stack.table,
          dynamodbEndpoint: stack.dynamodb_endpoint,
        }),
      );
      return;
    }
    const [base, rel] = u.pathname.startsWith("/sdk/")
      ? [path.join(WEB, "dist"), u.pathname.slice(5)]
      : [path.join(WEB, "demo"), u.pathname === "/" ? "index.html" : u.pathname.slice(1)];
    const file = path.resolve(base, rel);
    if (!file.startsWith(base + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    setStack: (e) => (stack = e),
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Chromium with a fresh profile; pages of the returned context share storage, locks and channels. */
export async function launch() {
  const { chromium } = await import("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "shortfuse-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Calls cognito-local's JSON API. */
export async function cognito(config, action, body) {
  const res = await fetch(config.cognitoEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}` },
    body: JSON.stringify(body),
  });
  const out = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${action}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** A signed-in admin's access token (user in the admin group, exchanged at the token service). */
export async function adminToken(config) {
  const email = `admin-${Date.now()}@trusted.example`;
  const password = "Adm1n-password!";
  await cognito(config, "SignUp", { ClientId: config.clientId, Username: email, Password: password, UserAttributes: [{ Name: "email", Value: email }] });
  await cognito(config, "CreateGroup", { UserPoolId: config.userPoolId, GroupName: config.adminGroup ?? "shortfuse-admin" }).catch(() => {});
  await cognito(config, "AdminAddUserToGroup", { UserPoolId: config.userPoolId, Username: email, GroupName: config.adminGroup ?? "shortfuse-admin" });
  const auth = await cognito(config, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: config.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  const res = await fetch(config.tokenServiceUrl.replace(/\/+$/, "") + "/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: auth.AuthenticationResult.IdToken,
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
    }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`admin exchange: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
