import { generateKeyPairSync } from 'node:crypto';
import type { Bundle, Reference, Signature } from '@medplum/fhirtypes';
import { calculateJwkThumbprint, compactVerify, exportJWK, FlattenedSign, importJWK, importPKCS8, importSPKI, type JWK, type KeyLike } from 'jose';
import { canonicalJson, sha256Hex } from '../fhir/canonical-json';

/**
 * Signing red bag passports (specs/red-bag-passport.md: "signed by the gateway, RSA … the
 * signature covers a stated canonical form of the Bundle"). The stated form: RFC 8785 JSON
 * Canonicalization Scheme (object keys sorted by UTF-16 code units, no whitespace, ECMAScript
 * number and string serialisation, which is what canonicalJson does for the values FHIR JSON holds)
 * of the Bundle without `id`, `meta` and `signature`, as the Da Vinci CDex signature profile does.
 * The signature is a detached compact JWS (RFC 7515 appendix F: `header..signature`), RS256,
 * deterministic (RSASSA-PKCS1-v1_5), so the same document and key give the same signature. The
 * protected header names the key (kid: its RFC 7638 thumbprint) and the signing time, so changing
 * Signature.when breaks it too. Old public keys stay in the verifying set after a rotation.
 */

export const PASSPORT_JWS_TYPE = 'carebridge-passport+jws';
const ALG = 'RS256';
const WHEN_HEADER = 'carebridge:when';
export const SIGNATURE_TYPE = { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.14', display: 'Source Signature' } as const;
export const TARGET_FORMAT = 'application/fhir+json;canonicalization=http://hl7.org/fhir/canonicalization/json';
export const SIG_FORMAT = 'application/jose';
const MIN_MODULUS_BITS = 2048;

export class PassportSigningError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PassportSigningError';
  }
}

/** The bytes the signature covers. */
export function passportCanonicalForm(bundle: Bundle): string {
  const { id: _id, meta: _meta, signature: _signature, ...rest } = bundle;
  return canonicalJson(rest);
}

/** SHA-256 of the canonical form of the whole signed document (signature included): what a printed copy carries. */
export function passportFingerprint(bundle: Bundle): string {
  const { id: _id, meta: _meta, ...rest } = bundle;
  return sha256Hex(canonicalJson(rest));
}

export interface PassportSigner {
  readonly kid: string;
  readonly publicJwk: JWK;
  sign(bundle: Bundle, when: string, who: NonNullable<Signature['who']>): Promise<Bundle>;
}

function modulusBits(jwk: JWK): number {
  return Buffer.from(jwk.n ?? '', 'base64url').length * 8;
}

async function publicJwkOf(key: KeyLike): Promise<JWK> {
  const { kty, n, e } = await exportJWK(key);
  if (kty !== 'RSA' || !n || !e) throw new PassportSigningError('passport signing keys must be RSA');
  const jwk: JWK = { kty, n, e };
  if (modulusBits(jwk) < MIN_MODULUS_BITS) throw new PassportSigningError(`passport signing keys must be RSA of at least ${String(MIN_MODULUS_BITS)} bits`);
  return jwk;
}

const encoder = new TextEncoder();

export async function signerFromPem(privatePem: string): Promise<PassportSigner> {
  let privateKey: KeyLike;
  try {
    privateKey = await importPKCS8(privatePem, ALG, { extractable: true });
  } catch (err) {
    throw new PassportSigningError('the passport signing key is not a PKCS#8 PEM RSA private key', { cause: err });
  }
  const full = await exportJWK(privateKey);
  if (full.kty !== 'RSA') throw new PassportSigningError('passport signing keys must be RSA');
  const publicJwk = await publicJwkOf((await importJWK({ kty: full.kty, n: full.n, e: full.e }, ALG)) as KeyLike);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    publicJwk: { ...publicJwk, kid, alg: ALG, use: 'sig' },
    async sign(bundle, when, who) {
      const unsigned: Bundle = { ...bundle };
      delete unsigned.signature;
      const jws = await new FlattenedSign(encoder.encode(passportCanonicalForm(unsigned)))
        .setProtectedHeader({ alg: ALG, kid, typ: PASSPORT_JWS_TYPE, [WHEN_HEADER]: when })
        .sign(privateKey);
      const detached = `${jws.protected ?? ''}..${jws.signature}`;
      const signature: Signature = { type: [{ ...SIGNATURE_TYPE }], when, who, targetFormat: TARGET_FORMAT, sigFormat: SIG_FORMAT, data: Buffer.from(detached, 'utf8').toString('base64') };
      return { ...unsigned, signature };
    },
  };
}

/** A new RSA 2048 private key as PKCS#8 PEM (development keys, tests). */
export function generatePassportKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export type PassportVerification =
  | { readonly valid: true; readonly kid: string; readonly signedAt: string; readonly signer: string; readonly fingerprint: string }
  | { readonly valid: false; readonly reason: string; readonly fingerprint?: string };

/** The public keys passports are verified against, by kid. */
export class PassportKeySet {
  private constructor(private readonly keys: ReadonlyMap<string, { jwk: JWK; key: KeyLike }>) {}

  static async fromJwks(jwks: readonly JWK[]): Promise<PassportKeySet> {
    const keys = new Map<string, { jwk: JWK; key: KeyLike }>();
    for (const jwk of jwks) {
      if (jwk.kty !== 'RSA') throw new PassportSigningError('passport verifying keys must be RSA');
      const key = (await importJWK({ kty: jwk.kty, n: jwk.n, e: jwk.e }, ALG)) as KeyLike;
      const pub = await publicJwkOf(key);
      const kid = await calculateJwkThumbprint(pub);
      keys.set(kid, { jwk: { ...pub, kid, alg: ALG, use: 'sig' }, key });
    }
    return new PassportKeySet(keys);
  }

  /** From SPKI public PEMs (rotated-out keys) and the signers in use. */
  static async from(options: { publicPems?: readonly string[]; signers?: readonly PassportSigner[] }): Promise<PassportKeySet> {
    const jwks: JWK[] = (options.signers ?? []).map((s) => s.publicJwk);
    for (const [i, pem] of (options.publicPems ?? []).entries()) {
      try {
        jwks.push(await exportJWK(await importSPKI(pem, ALG, { extractable: true })));
      } catch (err) {
        throw new PassportSigningError(`passport public key ${String(i + 1)} is not an SPKI PEM RSA public key`, { cause: err });
      }
    }
    return PassportKeySet.fromJwks(jwks);
  }

  get kids(): string[] {
    return [...this.keys.keys()];
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.jwk) };
  }

  /** Whether the document is authentic (signed by one of our keys) and unchanged since. Never throws for a bad document. */
  async verify(bundle: unknown): Promise<PassportVerification> {
    if (typeof bundle !== 'object' || bundle === null || (bundle as { resourceType?: unknown }).resourceType !== 'Bundle') return { valid: false, reason: 'not a FHIR Bundle' };
    const doc = bundle as Bundle;
    if (doc.type !== 'document') return { valid: false, reason: 'not a FHIR document (Bundle.type is not document)' };
    const fingerprint = passportFingerprint(doc);
    const signature = doc.signature;
    if (!signature?.data) return { valid: false, reason: 'the document is not signed (no Bundle.signature)', fingerprint };
    if (signature.sigFormat !== SIG_FORMAT) return { valid: false, reason: `the signature is not a JWS (sigFormat ${signature.sigFormat ?? 'missing'})`, fingerprint };
    const detached = Buffer.from(signature.data, 'base64').toString('utf8');
    const parts = detached.split('.');
    if (parts.length !== 3 || parts[1] !== '' || !parts[0] || !parts[2]) return { valid: false, reason: 'the signature is not a detached compact JWS', fingerprint };
    let header: { alg?: unknown; kid?: unknown; [WHEN_HEADER]?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as typeof header;
    } catch {
      return { valid: false, reason: 'the signature header is not readable', fingerprint };
    }
    if (header.alg !== ALG) return { valid: false, reason: `the signature algorithm ${typeof header.alg === 'string' ? header.alg : 'missing'} is not accepted (RS256 only)`, fingerprint };
    const kid = typeof header.kid === 'string' ? header.kid : '';
    const found = this.keys.get(kid);
    if (!found) return { valid: false, reason: `signed with a key CareBridge does not know (kid ${kid || 'missing'})`, fingerprint };
    const payload = Buffer.from(passportCanonicalForm(doc), 'utf8').toString('base64url');
    try {
      await compactVerify(`${parts[0]}.${payload}.${parts[2]}`, found.key, { algorithms: [ALG] });
    } catch {
      return { valid: false, reason: 'the signature does not match the content: the document was changed after it was signed, or the signature was', fingerprint };
    }
    if (header[WHEN_HEADER] !== signature.when) return { valid: false, reason: 'the signing time in Bundle.signature.when was changed after signing', fingerprint };
    const who = signature.who as Reference | undefined; // untrusted input: may be absent whatever the type says
    const signer = who?.display ?? who?.identifier?.value ?? who?.reference ?? '';
    return { valid: true, kid, signedAt: signature.when, signer, fingerprint };
  }
}
