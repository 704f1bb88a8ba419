/**
 * Why an OpenID Connect sign-in did not end in a session. The viewer picks the page from the
 * failure; `detail` is for the log and the audit trail only, and never holds personal data (no
 * subject, name or token: an error code, a check that failed, a directory reason of role and
 * organisation codes).
 */
export const SignInFailure = {
  /** The user cancelled at the identity provider, or it refused them (`error=access_denied`). */
  ACCESS_DENIED: 'access-denied',
  /** Another `error` from the identity provider's authorization endpoint. */
  PROVIDER_ERROR: 'provider-error',
  /** The callback came with no sign-in of this browser in progress: expired, already used, or another browser's. */
  NO_SIGN_IN_IN_PROGRESS: 'no-sign-in-in-progress',
  /** The callback's `state` is not the one this browser's sign-in sent. */
  STATE_MISMATCH: 'state-mismatch',
  /** The callback's `iss` (RFC 9207) names another issuer, or is missing where the provider promised it. */
  ISSUER_MISMATCH: 'issuer-mismatch',
  NO_CODE: 'no-code',
  /** The token endpoint refused the code (used already, expired, PKCE verifier wrong: `invalid_grant`). */
  CODE_REFUSED: 'code-refused',
  /** The ID token failed a check: signature, algorithm, issuer, audience, nonce, expiry, at_hash. */
  ID_TOKEN_INVALID: 'id-token-invalid',
  /** The UserInfo answer was refused: another subject, not JSON, not answered for the access token. */
  USERINFO_INVALID: 'userinfo-invalid',
  /** The identity provider could not be reached or answered with a server error. */
  PROVIDER_UNAVAILABLE: 'provider-unavailable',
  /** The identity provider's metadata or our registration with it does not fit (a setting to fix). */
  PROVIDER_MISCONFIGURED: 'provider-misconfigured',
  /** The verified claims map to no CareBridge person (role, organisation, team) in the directory. */
  NOT_IN_DIRECTORY: 'not-in-directory',
} as const;
export type SignInFailure = (typeof SignInFailure)[keyof typeof SignInFailure];

export class SignInError extends Error {
  constructor(
    readonly failure: SignInFailure,
    readonly detail: string,
  ) {
    super(`sign-in refused: ${failure} (${detail})`);
    this.name = 'SignInError';
  }
}

/** An identity provider's error code as safe to log: RFC 6749 codes are short ASCII words. */
export function errorCode(value: unknown): string {
  return typeof value === 'string' && /^[\x20-\x7E]{1,64}$/.test(value) ? value.replace(/[^A-Za-z0-9_.-]/g, '_') : 'unreadable';
}

/** Why a fetch failed, as a code safe to log: the socket's (ECONNREFUSED, ETIMEDOUT…) or the error's name. */
export function networkErrorCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  return errorCode(cause?.code ?? cause?.message ?? (err instanceof Error ? err.name : undefined));
}
