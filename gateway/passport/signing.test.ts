import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { CompactSign } from 'jose';
import { passportCanonicalForm, passportFingerprint, PassportKeySet, signerFromPem, type PassportSigner } from './signing';

const FIXTURES = join(__dirname, '..', '..', 'tests', 'fixtures', 'passport');
const KEY = readFileSync(join(FIXTURES, 'test-signing-key.pem'), 'utf8');
const OLD_KEY = readFileSync(join(FIXTURES, 'test-old-signing-key.pem'), 'utf8');
/** The golden transfer passport of the journey test, re-signed here so the test does not depend on its signature. */
const DOCUMENT = JSON.parse(readFileSync(join(FIXTURES, 'journey', '1-transfer-passport.expected.json'), 'utf8')) as Bundle;
const WHEN = '2026-11-20T02:40:00.000Z';
const WHO = { display: 'CareBridge shared care record (passport signing key)' };

let signer: PassportSigner;
let oldSigner: PassportSigner;
let keys: PassportKeySet;
let signed: Bundle;

beforeAll(async () => {
  signer = await signerFromPem(KEY);
  oldSigner = await signerFromPem(OLD_KEY);
  keys = await PassportKeySet.from({ signers: [signer] });
  signed = await signer.sign(DOCUMENT, WHEN, WHO);
});

/** A copy with one character of the text at `path` changed. */
function changeOneCharacter(bundle: Bundle, edit: (copy: Bundle) => void): Bundle {
  const copy = structuredClone(bundle);
  edit(copy);
  return copy;
}
const flip = (text: string, at: number): string => `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
const jwsOf = (bundle: Bundle): string => Buffer.from(bundle.signature?.data ?? '', 'base64').toString('utf8');
const withJws = (bundle: Bundle, jws: string): Bundle => ({ ...bundle, signature: { ...(bundle.signature ?? { type: [], when: WHEN, who: WHO }), data: Buffer.from(jws, 'utf8').toString('base64') } });

describe('passport signatures', () => {
  test('a signed passport verifies, naming the key, the time and the signer', async () => {
    expect(await keys.verify(signed)).toEqual({ valid: true, kid: signer.kid, signedAt: WHEN, signer: WHO.display, fingerprint: passportFingerprint(signed) });
    expect(signed.signature).toMatchObject({ sigFormat: 'application/jose', targetFormat: 'application/fhir+json;canonicalization=http://hl7.org/fhir/canonicalization/json', type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.14' }] });
    // Detached: the JWS carries no payload; the document is the payload.
    expect(jwsOf(signed).split('.')[1]).toBe('');
  });

  test('signing is deterministic (RS256): the same document and key give the same signature', async () => {
    expect((await signer.sign(DOCUMENT, WHEN, WHO)).signature?.data).toBe(signed.signature?.data);
  });

  test('the canonical form leaves out id, meta and signature, and does not depend on key order or whitespace', async () => {
    const reverseKeys = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(reverseKeys) : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)])) : value;
    const reordered = JSON.parse(JSON.stringify(reverseKeys(signed), null, 4)) as Bundle;
    expect(Object.keys(reordered)[0]).not.toBe(Object.keys(signed)[0]);
    expect(passportCanonicalForm(reordered)).toBe(passportCanonicalForm(signed));
    expect(passportCanonicalForm(signed)).not.toContain('"signature"');
    expect(await keys.verify({ ...reordered, id: 'another-id', meta: { lastUpdated: '2030-01-01T00:00:00Z' } })).toMatchObject({ valid: true });
  });

  test.each([
    ['a character in a section row deep in the Composition', (b: Bundle): void => {
      const composition = b.entry?.[0]?.resource as { section?: { extension?: { extension?: { valueString?: string }[] }[] }[] };
      const part = composition.section?.[4]?.extension?.[0]?.extension?.[1];
      if (!part?.valueString) throw new Error('fixture changed');
      part.valueString = flip(part.valueString, 0);
    }],
    ['a character in an entry (a medication dose)', (b: Bundle): void => {
      const med = b.entry?.find((e) => e.resource?.resourceType === 'MedicationStatement')?.resource as { dosage?: { text?: string }[] } | undefined;
      const dose = med?.dosage?.[0];
      if (!dose?.text) throw new Error('fixture changed');
      dose.text = dose.text.replace('One', 'Two');
    }],
    ['the document identifier (another version)', (b: Bundle): void => {
      if (b.identifier) b.identifier.value = (b.identifier.value ?? '').replace(/\/1$/, '/2');
    }],
    ['an entry removed', (b: Bundle): void => {
      b.entry?.pop();
    }],
    ['the signing time', (b: Bundle): void => {
      if (b.signature) b.signature.when = '2026-11-20T02:41:00.000Z';
    }],
  ])('changing %s fails verification', async (_what, edit) => {
    const result = await keys.verify(changeOneCharacter(signed, edit));
    expect(result.valid).toBe(false);
  });

  test.each([
    ['the protected header', 10],
    ['the signature value', -10],
  ])('one character changed in %s of the JWS fails', async (_what, offset) => {
    const jws = jwsOf(signed);
    const at = offset >= 0 ? offset : jws.length + offset;
    const result = await keys.verify(withJws(signed, flip(jws, at)));
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.reason).toMatch(/signature|header|key/);
  });

  test('a document changed after signing says so', async () => {
    const changed = changeOneCharacter(signed, (b) => {
      if (b.timestamp) b.timestamp = '2026-11-20T02:40:01.000Z';
    });
    expect(await keys.verify(changed)).toMatchObject({ valid: false, reason: expect.stringMatching(/changed after it was signed/) });
  });

  test('a passport signed with a rotated-out key verifies when its public key is configured, and not otherwise', async () => {
    const byOld = await oldSigner.sign(DOCUMENT, WHEN, WHO);
    expect(await keys.verify(byOld)).toMatchObject({ valid: false, reason: expect.stringMatching(/does not know/) });
    const oldPublicPem = (await import('node:crypto')).createPublicKey(OLD_KEY).export({ type: 'spki', format: 'pem' }).toString();
    const rotated = await PassportKeySet.from({ signers: [signer], publicPems: [oldPublicPem] });
    expect(await rotated.verify(byOld)).toMatchObject({ valid: true, kid: oldSigner.kid });
    expect(await rotated.verify(signed)).toMatchObject({ valid: true, kid: signer.kid });
    expect(rotated.kids.sort()).toEqual([signer.kid, oldSigner.kid].sort());
  });

  test('alg none and a symmetric (HS256) JWS are refused', async () => {
    const header = (alg: string): string => Buffer.from(JSON.stringify({ alg, kid: signer.kid, typ: 'carebridge-passport+jws', 'carebridge:when': WHEN })).toString('base64url');
    expect(await keys.verify(withJws(signed, `${header('none')}..`))).toMatchObject({ valid: false });
    const hs = await new CompactSign(new TextEncoder().encode(passportCanonicalForm(signed))).setProtectedHeader({ alg: 'HS256', kid: signer.kid }).sign(new TextEncoder().encode('a shared secret of thirty-two bytes!'));
    const [h, , s] = hs.split('.');
    expect(await keys.verify(withJws(signed, `${h ?? ''}..${s ?? ''}`))).toMatchObject({ valid: false, reason: expect.stringMatching(/HS256 is not accepted/) });
  });

  test('what is not a signed passport document is refused with a reason, never an exception', async () => {
    expect(await keys.verify({ resourceType: 'Patient' })).toMatchObject({ valid: false, reason: 'not a FHIR Bundle' });
    expect(await keys.verify({ ...signed, type: 'collection' })).toMatchObject({ valid: false, reason: expect.stringMatching(/not a FHIR document/) });
    const { signature: _s, ...unsigned } = signed;
    expect(await keys.verify(unsigned)).toMatchObject({ valid: false, reason: expect.stringMatching(/not signed/) });
    expect(await keys.verify(withJws(signed, 'not a jws'))).toMatchObject({ valid: false, reason: expect.stringMatching(/detached compact JWS/) });
  });

  test('keys shorter than 2048 bits and non-RSA keys are refused', async () => {
    const crypto = await import('node:crypto');
    const short = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(signerFromPem(short)).rejects.toThrow(/2048/);
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(signerFromPem(ec)).rejects.toThrow(/RSA/);
  });
});
