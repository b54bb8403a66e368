// Test harness for the browser tests: the local stack (internal/dev/cmd/devstack on free
// ports, serving the demo at demo_url, stopped afterwards with everything it
// started) and Debian's Chromium driven by playwright-core.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { createServer } from "node:net";
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
 * Starts internal/dev/cmd/devstack with every port free and a state dir of its own. `env`
 * is added to its environment. Returns {endpoints, demoUrl, config, log(), stop()}.
 */
export async function startStack(opts = {}) {
  try {
    return await startStackOnce(opts);
  } catch (e) {
    // A free port can be taken by another program between our probe and devstack's listen.
    if (!/port .*(in use|already taken)/i.test(String(e.message))) throw e;
    console.error("devstack: a port was taken meanwhile; starting again on other ports");
    return startStackOnce(opts);
  }
}

async function startStackOnce({ env = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shortfuse-browser-"));
  const bin = path.join(dir, "devstack");
  execFileSync("go", ["build", "-o", bin, "./internal/dev/cmd/devstack"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  // Every -<name>-port flag devstack has gets a free port.
  const h = spawnSync(bin, ["-h"], { cwd: ROOT, encoding: "utf8" });
  const help = `${h.stdout}${h.stderr}`;
  const names = [...new Set([...help.matchAll(/^\s+-([a-z0-9-]+)-port\b/gm)].map((m) => m[1]))];
  if (names.length === 0) throw new Error("devstack -h lists no -<name>-port flags");
  const args = ["-dir", path.join(dir, "state")];
  for (const n of names) args.push(`-${n}-port`, String(await freePort()));

  if (!names.includes("demo")) throw new Error("devstack has no demo service (-demo-port)");
  const childEnv = { ...process.env, SHORTFUSE_LOG_LEVEL: "info", ...env };
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
  const demoUrl = endpoints.demo_url;
  if (!demoUrl) {
    await stop();
    throw new Error("devstack wrote no demo_url to endpoints.json");
  }
  const config = await (await fetch(new URL("config.json", demoUrl))).json();
  return { endpoints, demoUrl, config, log: () => fs.readFileSync(logPath, "utf8"), stop };
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
