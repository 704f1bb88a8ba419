import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign, compactVerify, exportJWK, importJWK, importPKCS8, importSPKI, type JWK, type KeyLike } from 'jose';

/**
 * Signing audit checkpoints: compact JWS, ES256, the key named by its RFC 7638 JWK thumbprint
 * (`kid`). Rotation: a new signing key gets a new kid; the old public keys stay in the verifying
 * key set, so checkpoints signed before the rotation still verify.
 */

export const CHECKPOINT_JWS_TYPE = 'carebridge-audit-checkpoint+jws';
const ALG = 'ES256';

/** What a checkpoint commits to: the chain up to `seq` ends in `hash`, as of `time`. */
export interface CheckpointPayload {
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
  readonly node: string;
}

export interface CheckpointSigner {
  readonly kid: string;
  readonly publicJwk: JWK;
  sign(payload: CheckpointPayload): Promise<string>;
}

export class CheckpointSignatureError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckpointSignatureError';
  }
}

async function publicJwkOf(key: KeyLike): Promise<JWK> {
  const { kty, crv, x, y } = await exportJWK(key);
  if (kty !== 'EC' || crv !== 'P-256') throw new CheckpointSignatureError('audit signing keys must be EC P-256 (ES256)');
  return { kty, crv, x, y };
}

/** A signer from a PKCS#8 PEM private key (EC P-256). */
export async function signerFromPem(privatePem: string): Promise<CheckpointSigner> {
  let privateKey: KeyLike;
  try {
    privateKey = await importPKCS8(privatePem, ALG, { extractable: true });
  } catch (err) {
    throw new CheckpointSignatureError('the audit signing key is not a PKCS#8 PEM EC P-256 private key', { cause: err });
  }
  const full = await exportJWK(privateKey);
  const publicJwk = await publicJwkOf(await importJWK({ kty: full.kty, crv: full.crv, x: full.x, y: full.y }, ALG) as KeyLike);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    publicJwk: { ...publicJwk, kid, alg: ALG, use: 'sig' },
    sign: (payload) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: ALG, kid, typ: CHECKPOINT_JWS_TYPE }).sign(privateKey),
  };
}

/** A new EC P-256 private key as PKCS#8 PEM (development keys, tests). */
export function generateSigningKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The public keys checkpoints are verified against, by kid. */
export class CheckpointKeySet {
  private constructor(private readonly keys: ReadonlyMap<string, { jwk: JWK; key: KeyLike }>) {}

  static async fromJwks(jwks: readonly JWK[]): Promise<CheckpointKeySet> {
    const keys = new Map<string, { jwk: JWK; key: KeyLike }>();
    for (const jwk of jwks) {
      const key = (await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, ALG)) as KeyLike;
      const pub = await publicJwkOf(key);
      const kid = await calculateJwkThumbprint(pub);
      keys.set(kid, { jwk: { ...pub, kid, alg: ALG, use: 'sig' }, key });
    }
    return new CheckpointKeySet(keys);
  }

  /** From SPKI public PEMs (rotated-out keys) and the signers in use. */
  static async from(options: { publicPems?: readonly string[]; signers?: readonly CheckpointSigner[] }): Promise<CheckpointKeySet> {
    const jwks: JWK[] = (options.signers ?? []).map((s) => s.publicJwk);
    for (const [i, pem] of (options.publicPems ?? []).entries()) {
      try {
        jwks.push(await exportJWK(await importSPKI(pem, ALG, { extractable: true })));
      } catch (err) {
        throw new CheckpointSignatureError(`audit public key ${String(i + 1)} is not an SPKI PEM EC P-256 public key`, { cause: err });
      }
    }
    return CheckpointKeySet.fromJwks(jwks);
  }

  get kids(): string[] {
    return [...this.keys.keys()];
  }

  /** The public keys as a JWK Set, for export beside the checkpoints. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.jwk) };
  }

  /** Verifies a checkpoint JWS; returns its payload and kid, or throws CheckpointSignatureError saying why. */
  async verify(jws: string): Promise<CheckpointPayload & { kid: string }> {
    let kid = '';
    try {
      const { payload } = await compactVerify(
        jws,
        (header) => {
          kid = header.kid ?? '';
          const found = this.keys.get(kid);
          if (!found) throw new CheckpointSignatureError(`signed with an unknown key (kid ${kid || 'missing'})`);
          return found.key;
        },
        { algorithms: [ALG] },
      );
      const parsed = JSON.parse(new TextDecoder().decode(payload)) as Partial<CheckpointPayload>;
      if (typeof parsed.seq !== 'number' || typeof parsed.hash !== 'string' || typeof parsed.time !== 'string') throw new CheckpointSignatureError('the signed payload is not a checkpoint');
      return { seq: parsed.seq, hash: parsed.hash, time: parsed.time, node: parsed.node ?? '', kid };
    } catch (err) {
      if (err instanceof CheckpointSignatureError) throw err;
      throw new CheckpointSignatureError(`the signature does not verify (kid ${kid || 'missing'})`, { cause: err });
    }
  }
}
