import { SignJWT, type JWTPayload } from 'jose';
import { Authenticator, demoDirectory, TokenVerifier, type Directory } from '../../gateway/auth';
import { generateDevKeyPair, type DevKeyPair } from '../../gateway/auth/dev-keys';

/**
 * A test identity provider: an ES256 key pair in memory whose public key the app is configured with
 * (as AUTH_PUBLIC_KEYS would), so HTTP tests present real signed tokens that go through the same
 * verification as production tokens. Nothing is bypassed.
 */
export const TEST_ISSUER = 'https://idp.carebridge.test';
export const TEST_AUDIENCE = 'carebridge-test';

/** Demo directory organisations, as qualified ids. */
export const ORG = {
  GP: 'https://fhir.nhs.uk/Id/ods-organization-code|Y90001',
  TRUST: 'https://fhir.nhs.uk/Id/ods-organization-code|X9Z',
  COMMUNITY: 'https://fhir.nhs.uk/Id/ods-organization-code|X8C',
  COUNCIL: 'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004',
  CARE_HOME: 'https://carebridge.nhs.uk/Id/cqc-location-id|1-000000001',
} as const;

export interface PersonClaims {
  user?: string;
  name?: string;
  role?: string;
  org?: string;
  teams?: string[];
  groups?: string[];
  worker?: string;
  purpose?: string;
}

export interface TestAuthority {
  readonly authenticator: Authenticator;
  readonly keys: DevKeyPair;
  /** Any claims, signed by the test IdP (iss, aud, iat, exp one hour on). */
  sign(claims: JWTPayload): Promise<string>;
  /** A person's token; defaults: user 'test-user', role 'gp', organisation the demo GP practice. */
  person(claims?: PersonClaims): Promise<string>;
  /** A source system's token. */
  system(name: string): Promise<string>;
}

export async function testAuthority(directory: Directory = demoDirectory()): Promise<TestAuthority> {
  const keys = await generateDevKeyPair();
  const verifier = await TokenVerifier.create({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, publicKeys: [{ kid: 'test-idp', key: keys.publicKey }] });
  const sign = (claims: JWTPayload): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'test-idp' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setIssuedAt().setExpirationTime('1h').sign(keys.privateKey);
  return {
    authenticator: new Authenticator(verifier, directory),
    keys,
    sign,
    person: (c = {}) =>
      sign({
        sub: c.user ?? 'test-user',
        ...(c.name ? { name: c.name } : {}),
        ...(c.role !== undefined || c.groups === undefined ? { role: c.role ?? 'gp' } : {}),
        org: c.org ?? ORG.GP,
        ...(c.teams ? { teams: c.teams } : {}),
        ...(c.groups ? { groups: c.groups } : {}),
        ...(c.worker ? { worker: c.worker } : {}),
        ...(c.purpose ? { purpose: c.purpose } : {}),
      }),
    system: (name) => sign({ sub: `system:${name}`, system: name }),
  };
}

export const bearer = (token: string): { Authorization: string } => ({ Authorization: `Bearer ${token}` });
