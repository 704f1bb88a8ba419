import { networkErrorCode, SignInError, SignInFailure } from './oidc-errors';

/**
 * The identity provider's metadata, from `<issuer>/.well-known/openid-configuration` (OpenID
 * Connect Discovery 1.0 §4), checked before any of it is used: the document's `issuer` must be the
 * configured one exactly (§4.3), the endpoints must be URLs (https in production), and what the
 * viewer needs (the code flow, PKCE S256, our client authentication method) must not be ruled out.
 */
export interface ProviderMetadata {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  readonly userinfoEndpoint?: string;
  readonly endSessionEndpoint?: string;
  /** RFC 9207: the provider puts `iss` on every authorization response, so its absence is refused. */
  readonly issParameterSupported: boolean;
}

export interface DiscoveryOptions {
  readonly issuer: string;
  readonly requireHttps: boolean;
  readonly tokenAuthMethod: string;
  readonly timeoutMs: number;
}

const misconfigured = (detail: string): SignInError => new SignInError(SignInFailure.PROVIDER_MISCONFIGURED, detail);

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

export async function discover(options: DiscoveryOptions): Promise<ProviderMetadata> {
  let res: Response;
  try {
    res = await fetch(discoveryUrl(options.issuer), { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (err) {
    throw new SignInError(SignInFailure.PROVIDER_UNAVAILABLE, `discovery unreachable: ${networkErrorCode(err)}`);
  }
  if (res.status >= 500) throw new SignInError(SignInFailure.PROVIDER_UNAVAILABLE, `discovery answered ${String(res.status)}`);
  if (!res.ok) throw misconfigured(`discovery answered ${String(res.status)}`);
  let doc: unknown;
  try {
    doc = await res.json();
  } catch {
    throw misconfigured('discovery document is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw misconfigured('discovery document is not a JSON object');
  return metadataFrom(doc as Record<string, unknown>, options);
}

export function metadataFrom(doc: Readonly<Record<string, unknown>>, options: Pick<DiscoveryOptions, 'issuer' | 'requireHttps' | 'tokenAuthMethod'>): ProviderMetadata {
  if (doc['issuer'] !== options.issuer) throw misconfigured(`discovery names issuer '${typeof doc['issuer'] === 'string' ? doc['issuer'] : '?'}', not OIDC_ISSUER '${options.issuer}'`);
  const endpoint = (name: string, required: boolean): string | undefined => {
    const value = doc[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || !URL.canParse(value)) throw misconfigured(`discovery: ${name} ${value === undefined ? 'is missing' : 'is not a URL'}`);
    const protocol = new URL(value).protocol;
    if (protocol !== 'https:' && (options.requireHttps || protocol !== 'http:')) throw misconfigured(`discovery: ${name} is not https`);
    return value;
  };
  const list = (name: string): readonly unknown[] | undefined => (Array.isArray(doc[name]) ? (doc[name] as unknown[]) : undefined);
  const responseTypes = list('response_types_supported');
  if (responseTypes && !responseTypes.includes('code')) throw misconfigured('discovery: the provider does not offer the authorization code flow');
  const challengeMethods = list('code_challenge_methods_supported');
  if (challengeMethods && !challengeMethods.includes('S256')) throw misconfigured('discovery: the provider does not offer PKCE with S256');
  const authMethods = list('token_endpoint_auth_methods_supported');
  // Absent means client_secret_basic only (OIDC Discovery §3).
  if (!(authMethods ?? ['client_secret_basic']).includes(options.tokenAuthMethod)) throw misconfigured(`discovery: the provider does not offer ${options.tokenAuthMethod} at its token endpoint`);
  const authorizationEndpoint = endpoint('authorization_endpoint', true) ?? '';
  const tokenEndpoint = endpoint('token_endpoint', true) ?? '';
  const jwksUri = endpoint('jwks_uri', true) ?? '';
  const userinfoEndpoint = endpoint('userinfo_endpoint', false);
  const endSessionEndpoint = endpoint('end_session_endpoint', false);
  return {
    issuer: options.issuer,
    authorizationEndpoint,
    tokenEndpoint,
    jwksUri,
    ...(userinfoEndpoint ? { userinfoEndpoint } : {}),
    ...(endSessionEndpoint ? { endSessionEndpoint } : {}),
    issParameterSupported: doc['authorization_response_iss_parameter_supported'] === true,
  };
}
