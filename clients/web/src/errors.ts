/**
 * An error answer of the token service (RFC 6749 §5.2), or a transport
 * failure talking to it.
 */
export class TokenError extends Error {
  /** The OAuth `error` code (`invalid_grant`, ...), or `network_error`. */
  readonly code: string;
  /** HTTP status, 0 for a network failure. */
  readonly status: number;

  constructor(code: string, status: number, description?: string) {
    super(description ? `${code}: ${description}` : code);
    this.name = "TokenError";
    this.code = code;
    this.status = status;
  }

  /** Worth trying again with the same refresh token: the answer was lost or the service was down. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** Thrown by calls that need a session when there is none (never signed in, signed out, or ended). */
export class SignedOutError extends Error {
  constructor(message = "not signed in") {
    super(message);
    this.name = "SignedOutError";
  }
}
