/** Options of {@link revokeCognitoRefreshToken}. */
export interface CognitoRevokeOptions {
  /** `https://cognito-idp.<region>.amazonaws.com/` by default, from `region`. */
  endpoint?: string;
  region?: string;
  clientId: string;
  /** Cognito's refresh token (from Amplify, amazon-cognito-identity-js or the hosted UI). */
  refreshToken: string;
  fetch?: typeof fetch;
}

/**
 * Revokes a Cognito refresh token (`RevokeToken`), so that the ID token source
 * cannot sign the user back in after {@link ShortfuseClient.signOut}. Needs
 * token revocation enabled on the app client (the default for new ones).
 * Amplify users call Amplify's `signOut()` instead.
 */
export async function revokeCognitoRefreshToken(o: CognitoRevokeOptions): Promise<void> {
  const endpoint = o.endpoint ?? (o.region ? `https://cognito-idp.${o.region}.amazonaws.com/` : "");
  if (!endpoint) throw new TypeError("endpoint or region is required");
  const f = o.fetch ?? globalThis.fetch.bind(globalThis);
  const res = await f(endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.RevokeToken",
    },
    body: JSON.stringify({ Token: o.refreshToken, ClientId: o.clientId }),
    credentials: "omit",
  });
  if (!res.ok) {
    const b = await res.json().catch(() => ({}));
    throw new Error(`Cognito RevokeToken: ${res.status} ${b.__type ?? ""} ${b.message ?? ""}`.trim());
  }
}
