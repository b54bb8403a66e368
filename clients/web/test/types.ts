// Compiled (not run) by `npm test`: the published declarations serve a typical caller.
import { ShortfuseClient, SignedOutError, TokenError, type SessionInfo, type SignOutResult } from "../dist/index.js";

const client = new ShortfuseClient({
  issuer: "https://api.example.com/auth",
  clientId: "client",
  getIdToken: async () => null,
  refreshTokenStorage: "memory",
  signRequest: ({ kind, headers, accessToken }) => {
    if (kind === "api" && accessToken) headers.set("DPoP", "proof");
  },
  retryOnResponse: (_req, res) => res.headers.has("DPoP-Nonce"),
});

export async function use(): Promise<void> {
  await client.ready;
  const info: SessionInfo = await client.signIn();
  const left: number = info.expiresAt - Date.now();
  const res: Response = await client.fetch("https://api.example.com/orders", { method: "POST", body: "{}" });
  const { sessions } = await client.listSessions();
  const active: boolean = sessions[0]?.active ?? false;
  client.addEventListener("signedout", (e) => console.log((e as CustomEvent<{ reason: string }>).detail.reason));
  const out: SignOutResult = await client.signOut();
  try {
    await client.accessToken();
  } catch (e) {
    if (e instanceof SignedOutError || (e instanceof TokenError && e.transient)) return;
  }
  console.log(left, res.status, active, out.sessionRevoked, client.stats.refreshes);
}
