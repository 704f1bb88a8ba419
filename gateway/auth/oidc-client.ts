import { createHash, createPublicKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { Claim } from './claims';
import { discover, type ProviderMetadata } from './oidc-discovery';
import { errorCode, networkErrorCode, SignInError, SignInFailure } from './oidc-errors';
import { verifyIdToken } from './oidc-id-token';
import { ClientAuthMethod, type OidcConfig } from './oidc-config';

/**
 * The viewer as an OpenID Connect relying party: the authorization code flow with PKCE (S256),
 * `state` and `nonce` (OpenID Connect Core 1.0 §3.1; RFC 7636; RFC 9207 for `iss`), the code
 * exchanged at the token endpoint with our client authentication, the ID token verified
 * (oidc-id-token.ts), claims completed from the UserInfo endpoint, and RP-initiated logout. Built
 * on `jose` and node:crypto (README, "Dependencies", says why not openid-client). Knows nothing
 * of HTTP sessions or cookies: the viewer keeps the pending sign-in and the session.
 */

/** What one browser's sign-in must remember between the redirect and the callback. */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface CompletedSignIn {
  /** The ID token's claims, completed by UserInfo, kept to those the directory reads (claims.ts). */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly idToken: string;
  /** The ID token's `exp`. */
  readonly idTokenExpiresAt: Date;
}

export interface RelyingPartyOptions {
  readonly now?: () => Date;
  /** Each call to the provider (discovery, token, UserInfo, JWKS) gives up after this long. */
  readonly timeoutMs?: number;
  /** The metadata is fetched again after this long (key sets follow jose's own cache and rotation). */
  readonly metadataMaxAgeMs?: number;
}

/** The claims CareBridge reads (the directory's input); everything else the provider says is dropped. */
const KEPT_CLAIMS: readonly string[] = Object.values(Claim);

interface Provider {
  readonly metadata: ProviderMetadata;
  readonly keys: JWTVerifyGetKey;
  readonly fetchedAt: number;
}

const random = (): string => randomBytes(32).toString('base64url');
const unavailable = (detail: string): SignInError => new SignInError(SignInFailure.PROVIDER_UNAVAILABLE, detail);

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic's base64. */
const formEncode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');

export class OidcRelyingParty {
  private provider: Provider | undefined;
  private kid: Promise<string> | undefined;
  private readonly now: () => Date;
  private readonly timeoutMs: number;
  private readonly metadataMaxAgeMs: number;

  constructor(
    readonly config: OidcConfig,
    options: RelyingPartyOptions = {},
  ) {
    this.now = options.now ?? ((): Date => new Date());
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 3600_000;
  }

  /** The provider's checked metadata and key set, fetched once an hour (never cached when it fails). */
  async metadata(): Promise<ProviderMetadata> {
    return (await this.currentProvider()).metadata;
  }

  /** The origin the provider signs people out at, once known (the viewer's CSP lets the sign-out form go there). */
  endSessionOrigin(): string | undefined {
    const endpoint = this.provider?.metadata.endSessionEndpoint;
    return endpoint ? new URL(endpoint).origin : undefined;
  }

  private async currentProvider(): Promise<Provider> {
    const cached = this.provider;
    if (cached && this.now().getTime() - cached.fetchedAt < this.metadataMaxAgeMs) return cached;
    const metadata = await discover({ issuer: this.config.issuer, requireHttps: this.config.requireHttps, tokenAuthMethod: this.config.credentials.method, timeoutMs: this.timeoutMs });
    const keys = cached?.metadata.jwksUri === metadata.jwksUri ? cached.keys : createRemoteJWKSet(new URL(metadata.jwksUri), { timeoutDuration: this.timeoutMs });
    this.provider = { metadata, keys, fetchedAt: this.now().getTime() };
    return this.provider;
  }

  /** Where to send the browser, and what to remember until it comes back. */
  async startSignIn(): Promise<{ url: string; pending: PendingSignIn }> {
    const { authorizationEndpoint } = await this.metadata();
    const pending: PendingSignIn = { state: random(), nonce: random(), codeVerifier: random() };
    const url = new URL(authorizationEndpoint);
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: this.config.redirectUri,
      scope: this.config.scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: createHash('sha256').update(pending.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return { url: url.href, pending };
  }

  /** The callback's parameters against this browser's pending sign-in: the verified claims, or SignInError. */
  async finishSignIn(callback: URLSearchParams, pending: PendingSignIn): Promise<CompletedSignIn> {
    const state = callback.get('state');
    // The state first: an answer that is not to our request is not read any further, error or not.
    if (state === null || !sameText(state, pending.state)) throw new SignInError(SignInFailure.STATE_MISMATCH, state === null ? 'no state' : 'state differs');
    const provider = await this.currentProvider();
    const iss = callback.get('iss');
    if (iss !== null ? iss !== provider.metadata.issuer : provider.metadata.issParameterSupported) throw new SignInError(SignInFailure.ISSUER_MISMATCH, iss === null ? 'no iss' : 'iss differs');
    const error = callback.get('error');
    if (error !== null) throw new SignInError(error === 'access_denied' ? SignInFailure.ACCESS_DENIED : SignInFailure.PROVIDER_ERROR, errorCode(error));
    const code = callback.get('code');
    if (code === null || code === '') throw new SignInError(SignInFailure.NO_CODE, 'no code');

    const tokens = await this.exchangeCode(provider.metadata, code, pending.codeVerifier);
    const idClaims = await verifyIdToken(tokens.idToken, provider.keys, {
      issuer: provider.metadata.issuer,
      clientId: this.config.clientId,
      nonce: pending.nonce,
      ...(tokens.accessToken ? { accessToken: tokens.accessToken } : {}),
      clockToleranceSeconds: this.config.clockToleranceSeconds,
      now: this.now(),
    });
    const userinfo = this.config.userinfo && provider.metadata.userinfoEndpoint && tokens.accessToken ? await this.userinfo(provider.metadata.userinfoEndpoint, tokens.accessToken, String(idClaims.sub)) : {};
    // The ID token is signed: where both say something, it wins.
    const merged: Record<string, unknown> = { ...userinfo, ...idClaims };
    const claims = Object.fromEntries(KEPT_CLAIMS.filter((name) => merged[name] !== undefined).map((name) => [name, merged[name]]));
    return { claims, idToken: tokens.idToken, idTokenExpiresAt: new Date((idClaims.exp ?? 0) * 1000) };
  }

  /** The provider's sign-out address for this ID token, when it has one (OpenID Connect RP-Initiated Logout 1.0 §2). */
  async endSessionUrl(idToken: string): Promise<string | undefined> {
    let metadata: ProviderMetadata;
    try {
      metadata = await this.metadata();
    } catch {
      return undefined;
    }
    if (!metadata.endSessionEndpoint) return undefined;
    const url = new URL(metadata.endSessionEndpoint);
    url.searchParams.set('id_token_hint', idToken);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('post_logout_redirect_uri', this.config.postLogoutRedirectUri);
    return url.href;
  }

  private async exchangeCode(metadata: ProviderMetadata, code: string, codeVerifier: string): Promise<{ idToken: string; accessToken?: string }> {
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.config.redirectUri, code_verifier: codeVerifier });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const credentials = this.config.credentials;
    switch (credentials.method) {
      case ClientAuthMethod.SECRET_BASIC:
        headers['authorization'] = `Basic ${Buffer.from(`${formEncode(this.config.clientId)}:${formEncode(credentials.secret)}`).toString('base64')}`;
        break;
      case ClientAuthMethod.SECRET_POST:
        body.set('client_id', this.config.clientId);
        body.set('client_secret', credentials.secret);
        break;
      case ClientAuthMethod.PRIVATE_KEY_JWT:
        body.set('client_id', this.config.clientId);
        body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
        body.set('client_assertion', await this.clientAssertion(metadata.tokenEndpoint));
        break;
    }
    const answer = await this.call(metadata.tokenEndpoint, { method: 'POST', headers, body: body.toString() }, 'token endpoint');
    const json = answer.json;
    if (!answer.ok) {
      const error = errorCode(json?.['error']);
      // Our registration is wrong (secret, key, redirect URI): not the user's fault, and not fixed by trying again.
      if (error === 'invalid_client' || error === 'unauthorized_client') throw new SignInError(SignInFailure.PROVIDER_MISCONFIGURED, `token endpoint: ${error}`);
      throw new SignInError(SignInFailure.CODE_REFUSED, `token endpoint: ${json ? error : `http-${String(answer.status)}`}`);
    }
    if (!json) throw new SignInError(SignInFailure.ID_TOKEN_INVALID, 'token response is not JSON');
    const idToken = json['id_token'];
    if (typeof idToken !== 'string' || idToken === '') throw new SignInError(SignInFailure.ID_TOKEN_INVALID, 'no id_token in the token response');
    const accessToken = json['access_token'];
    if (accessToken !== undefined && (typeof accessToken !== 'string' || typeof json['token_type'] !== 'string' || json['token_type'].toLowerCase() !== 'bearer')) {
      throw new SignInError(SignInFailure.ID_TOKEN_INVALID, 'token response access_token is not a bearer token');
    }
    return { idToken, ...(typeof accessToken === 'string' ? { accessToken } : {}) };
  }

  /** private_key_jwt (OIDC Core §9): a short-lived assertion signed with our key, for the token endpoint. */
  private async clientAssertion(audience: string): Promise<string> {
    const credentials = this.config.credentials;
    if (credentials.method !== ClientAuthMethod.PRIVATE_KEY_JWT) throw new Error('no client key');
    this.kid ??= credentials.kid !== undefined ? Promise.resolve(credentials.kid) : exportJWK(createPublicKey(credentials.key)).then((jwk) => calculateJwkThumbprint(jwk));
    const now = Math.floor(this.now().getTime() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: credentials.alg, kid: await this.kid, typ: 'JWT' })
      .setIssuer(this.config.clientId)
      .setSubject(this.config.clientId)
      .setAudience(audience)
      .setJti(random())
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(credentials.key);
  }

  private async userinfo(endpoint: string, accessToken: string, subject: string): Promise<JWTPayload> {
    const answer = await this.call(endpoint, { method: 'GET', headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } }, 'userinfo');
    if (!answer.ok) throw new SignInError(SignInFailure.USERINFO_INVALID, `userinfo answered ${String(answer.status)}`);
    // A signed or encrypted UserInfo answer (application/jwt) is not supported: register the client for JSON.
    if (!answer.json) throw new SignInError(SignInFailure.USERINFO_INVALID, `userinfo is not JSON (${answer.contentType})`);
    // OIDC Core §5.3.2: the UserInfo sub must be the ID token's, or the answer is about someone else.
    if (answer.json['sub'] !== subject) throw new SignInError(SignInFailure.USERINFO_INVALID, 'userinfo sub differs from the id token');
    return answer.json;
  }

  /** One call to the provider: unreachable and 5xx are "unavailable"; the JSON body when there is one. */
  private async call(url: string, init: RequestInit, what: string): Promise<{ ok: boolean; status: number; contentType: string; json?: Record<string, unknown> }> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw unavailable(`${what} unreachable: ${networkErrorCode(err)}`);
    }
    if (res.status >= 500) throw unavailable(`${what} answered ${String(res.status)}`);
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    let json: Record<string, unknown> | undefined;
    if (contentType === 'application/json') {
      const parsed: unknown = await res.json().catch(() => undefined);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } else {
      await res.body?.cancel();
    }
    return { ok: res.ok, status: res.status, contentType: contentType || 'none', ...(json ? { json } : {}) };
  }
}
