// The shortfuse demo: Cognito sign-up and sign-in (cognito-local's JSON API),
// then the SDK: exchange, calls through the gateway, sessions, sign-out.
import { ShortfuseClient, createDPoP, revokeCognitoRefreshToken, decodeClaims } from "./sdk/index.js";

const $ = (sel) => document.querySelector(sel);

const config = await fetch("config.json", { cache: "no-store" }).then((r) => {
  if (!r.ok) throw new Error(`config.json: ${r.status}`);
  return r.json();
});

// ---------------------------------------------------------------- Cognito (the ID token source)

/** Calls one action of Cognito's JSON API, as the AWS SDKs do. */
async function cognito(action, body) {
  const res = await fetch(config.cognitoEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}` },
    body: JSON.stringify(body),
  });
  const out = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${(out.__type || res.status).toString().split("#").pop()}: ${out.message || action + " failed"}`);
  return out;
}

// Cognito's tokens, in memory only: a reload signs in again (or joins another tab's session).
let cognitoTokens = null;

async function cognitoSignIn(email, password) {
  const out = await cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: config.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  if (!out.AuthenticationResult) throw new Error(`unexpected challenge ${out.ChallengeName}`);
  cognitoTokens = { id: out.AuthenticationResult.IdToken, refresh: out.AuthenticationResult.RefreshToken };
}

/** The SDK's ID token source: Cognito's ID token, refreshed through Cognito when it is near expiry. */
async function getIdToken() {
  if (!cognitoTokens) return null;
  const exp = Number(decodeClaims(cognitoTokens.id).exp || 0) * 1000;
  if (exp - Date.now() > 30_000) return cognitoTokens.id;
  const out = await cognito("InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    ClientId: config.clientId,
    AuthParameters: { REFRESH_TOKEN: cognitoTokens.refresh },
  });
  cognitoTokens.id = out.AuthenticationResult.IdToken;
  return cognitoTokens.id;
}

// ---------------------------------------------------------------- the SDK

// Tokens are bound to a non-extractable key kept in IndexedDB (DPoP, RFC 9449)
// whenever the stack's gateway can check proofs; ?dpop=off shows plain Bearer.
const useDPoP = config.dpop === true && new URLSearchParams(location.search).get("dpop") !== "off";
const dpop = useDPoP
  ? await createDPoP({ onStepUp: ({ maxAge, acrValues }) => log(`this route needs a fresher or stronger sign-in (max_age ${maxAge ?? "-"}, acr ${acrValues ?? "-"}): sign in again`, true) })
  : null;

const client = new ShortfuseClient({
  issuer: config.tokenServiceUrl,
  clientId: config.clientId,
  getIdToken,
  scope: config.scope ?? "read",
  ...(dpop ? dpop.clientOptions() : {}),
});

client.addEventListener("tokens", () => render());
client.addEventListener("signedout", (e) => {
  log(`signed out: ${e.detail.reason}`, e.detail.reason !== "signed_out");
  $("#auto").checked = false;
  render();
});

const api = (path) => config.apiUrl.replace(/\/+$/, "") + path;

async function callApi() {
  try {
    const res = await client.fetch(api(config.protectedPath));
    const text = await res.text();
    $("#answer").textContent = `${res.status} ${res.statusText}\n${pretty(text)}`;
    log(`GET ${config.protectedPath} → ${res.status}`, !res.ok);
    return res.status;
  } catch (e) {
    $("#answer").textContent = String(e);
    log(String(e), true);
    return 0;
  } finally {
    renderStats();
  }
}

async function listSessions() {
  const { sessions, truncated } = await client.listSessions();
  const body = $("#sessionlist tbody");
  body.replaceChildren();
  for (const s of sessions) {
    const tr = document.createElement("tr");
    const cells = [
      Object.assign(document.createElement("code"), { textContent: s.id.slice(0, 12) + "…" }),
      document.createTextNode(s.created_at ? new Date(s.created_at).toLocaleTimeString() : ""),
      document.createTextNode(s.last_used_at ? new Date(s.last_used_at).toLocaleTimeString() : ""),
      document.createTextNode(s.current ? "this browser" : s.active ? "active" : `ended${s.revoke_reason ? " (" + s.revoke_reason + ")" : ""}`),
    ];
    for (const c of cells) tr.appendChild(document.createElement("td")).appendChild(c);
    const td = tr.appendChild(document.createElement("td"));
    if (s.active) {
      const b = Object.assign(document.createElement("button"), { textContent: "end", className: "secondary" });
      b.onclick = async () => {
        await client.endSession(s.id);
        log(`ended session ${s.id.slice(0, 12)}…`);
        if (client.signedIn) await listSessions();
      };
      td.appendChild(b);
    }
    body.appendChild(tr);
  }
  $("#sessionlist").hidden = false;
  log(`${sessions.length} session(s)${truncated ? ", older ones not shown" : ""}`);
}

async function signOut() {
  const out = await client.signOut();
  log(out.sessionRevoked ? "session revoked at the token service" : "the token service could not be reached; the session ends at its idle limit", !out.sessionRevoked);
  // Cognito's own refresh token too, or the ID token source would sign straight back in.
  if (cognitoTokens) {
    await revokeCognitoRefreshToken({ endpoint: config.cognitoEndpoint, clientId: config.clientId, refreshToken: cognitoTokens.refresh })
      .then(() => log("Cognito refresh token revoked"))
      .catch((e) => log(`Cognito RevokeToken: ${e.message}`, true));
    cognitoTokens = null;
  }
  render();
}

// ---------------------------------------------------------------- page

function log(text, bad = false) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  if (bad) li.className = "bad";
  $("#log").prepend(li);
  while ($("#log").children.length > 200) $("#log").lastChild.remove();
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function setStatus(text, kind = "") {
  $("#status").textContent = text;
  $("#status").className = `status ${kind}`;
}

function renderStats() {
  const s = client.stats;
  $("#stats").textContent = `${s.calls} calls, ${s.refreshes} refreshes here, ${s.unauthorized} × 401`;
}

function render() {
  const info = client.session;
  $("#auth").hidden = !!info;
  $("#app").hidden = !info;
  if (!info) {
    setStatus("signed out");
    return;
  }
  const c = info.claims;
  setStatus("signed in", "ok");
  const email = cognitoTokens ? decodeClaims(cognitoTokens.id).email : undefined;
  $("#user").textContent = `${email ?? c.username ?? ""} (sub ${c.sub})${Array.isArray(c.groups) && c.groups.length ? ", groups " + c.groups.join(",") : ""}`;
  $("#sid").textContent = info.sid + (c.cnf?.jkt ? ` (DPoP-bound to key ${c.cnf.jkt.slice(0, 12)}…)` : " (Bearer)");
  const table = config.table ?? "shortfuse";
  const ddb = config.dynamodbEndpoint ?? "$(node -p \"require('./.devstack/endpoints.json').dynamodb_endpoint\")";
  $("#admincmd").textContent =
    `go run ./cmd/shortfuse users revoke --user ${c.sub} --table ${table} --endpoint ${ddb}\n` +
    `# or one session only:\ngo run ./cmd/shortfuse sessions revoke --session ${info.sid} --table ${table} --endpoint ${ddb}`;
  $("#admin").hidden = !(Array.isArray(c.groups) && c.groups.includes(config.adminGroup ?? "shortfuse-admin"));
  renderStats();
}

function tick() {
  const info = client.session;
  if (info) {
    const c = info.claims;
    const life = Math.max(1, (Number(c.exp) - Number(c.iat)) * 1000 || 1);
    const left = Math.max(0, info.expiresAt - Date.now());
    $("#remaining").textContent = `${(left / 1000).toFixed(1)} s left`;
    $("#life").value = left / life;
  }
}

$("#route").textContent = `GET ${config.protectedPath}`;
if (typeof config.revocationBoundSeconds === "number") $("#bound").textContent = `${config.revocationBoundSeconds} s here`;
if (config.sesWebUrl) $("#seslink").href = config.sesWebUrl;

let pending = null; // {email, password} awaiting a confirmation code

$("#signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target;
  const email = form.email.value.trim();
  const password = form.password.value;
  const action = e.submitter?.value ?? "signin";
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    if (action === "signup") {
      const out = await cognito("SignUp", {
        ClientId: config.clientId,
        Username: email,
        Password: password,
        UserAttributes: [{ Name: "email", Value: email }],
      });
      log(`signed up ${email}${out.UserConfirmed ? " (confirmed)" : ": code sent by mail"}`);
      if (!out.UserConfirmed) {
        pending = { email, password };
        $("#confirm").hidden = false;
        setStatus("enter the code from the mail");
        return;
      }
    }
    await signInWith(email, password);
  } catch (err) {
    setStatus(err.message, "bad");
    log(err.message, true);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
});

$("#confirm").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await cognito("ConfirmSignUp", { ClientId: config.clientId, Username: pending.email, ConfirmationCode: e.target.code.value.trim() });
    $("#confirm").hidden = true;
    await signInWith(pending.email, pending.password);
    pending = null;
  } catch (err) {
    setStatus(err.message, "bad");
    log(err.message, true);
  }
});

async function signInWith(email, password) {
  await cognitoSignIn(email, password);
  log("Cognito sign-in: got an ID token");
  const info = await client.signIn();
  log(`exchanged for a session (${info.sid.slice(0, 12)}…), access token for ${Math.round((info.expiresAt - Date.now()) / 1000)} s`);
  render();
}

$("#admin").addEventListener("submit", async (e) => {
  e.preventDefault();
  const sub = e.target.sub.value.trim();
  try {
    const res = await client.fetch(`${config.tokenServiceUrl.replace(/\/+$/, "")}/admin/users/${encodeURIComponent(sub)}/revoke`, { method: "POST" });
    const text = await res.text();
    $("#answer").textContent = `${res.status} ${res.statusText}\n${pretty(text)}`;
    log(`admin revoke ${sub} → ${res.status}`, !res.ok);
  } catch (err) {
    log(String(err), true);
  }
});

$("#call").addEventListener("click", callApi);
$("#sessions").addEventListener("click", () => listSessions().catch((e) => log(String(e), true)));
$("#signout").addEventListener("click", () => signOut().catch((e) => log(String(e), true)));

let autoTimer = null;
$("#auto").addEventListener("change", (e) => {
  clearInterval(autoTimer);
  if (e.target.checked) autoTimer = setInterval(() => client.signedIn && callApi(), 1000);
});

addEventListener("pagehide", () => client.close());
setInterval(tick, 200);

await client.ready;
if (client.signedIn) log("joined the session of another tab");
render();
tick();
// For the browser tests and the console.
window.demo = { client, config, callApi, listSessions, signOut, api };
