import { Authenticator, demoDirectory, TokenVerifier } from '../../gateway/auth';
import { generateDevKeyPair, mintToken } from '../../gateway/auth/dev-keys';

/**
 * Accepted tokens are remembered for a minute, never past their exp: the clock of the cache and of
 * the verifier is the same injected one, so these tests move time instead of waiting.
 */
describe('the verified-token cache', () => {
  test('a token is served from the cache within its life and refused as expired once exp (plus the tolerance) has passed', async () => {
    const start = new Date('2026-11-23T10:00:00Z');
    let now = start.getTime();
    const keys = await generateDevKeyPair();
    const verifier = await TokenVerifier.create({ issuer: 'https://idp.test', audience: 'cb', publicKeys: [{ kid: keys.kid, key: keys.publicKey }], clockToleranceSeconds: 60, now: () => new Date(now) });
    const auth = new Authenticator(verifier, demoDirectory(), () => now);
    const token = `Bearer ${await mintToken(keys, { sub: 'u-cache', role: 'gp', org: 'Y90001' }, { issuer: 'https://idp.test', audience: 'cb', expiresInSeconds: 120, now: start })}`;

    expect((await auth.authenticate(token)).status).toBe('authenticated');
    now += 30_000;
    expect((await auth.authenticate(token)).status).toBe('authenticated');
    now += 100_000; // 130 s: past exp, within the 60 s tolerance: the cache has let go, the verifier still accepts
    expect((await auth.authenticate(token)).status).toBe('authenticated');
    now += 60_000; // 190 s: past exp + tolerance
    expect(await auth.authenticate(token)).toEqual({ status: 'invalid', reason: 'expired', claimedSubject: 'u-cache' });
  });

  test('a refused token is never cached, and a changed token is a different token', async () => {
    const keys = await generateDevKeyPair();
    const verifier = await TokenVerifier.create({ issuer: 'https://idp.test', audience: 'cb', publicKeys: [{ kid: keys.kid, key: keys.publicKey }] });
    const auth = new Authenticator(verifier, demoDirectory());
    const refused = `Bearer ${await mintToken(keys, { sub: 'u', role: 'R8004', org: 'Y90001' }, { issuer: 'https://idp.test', audience: 'cb', expiresInSeconds: 60 })}`;
    expect((await auth.authenticate(refused)).status).toBe('forbidden');
    expect((await auth.authenticate(refused)).status).toBe('forbidden');
    const good = await mintToken(keys, { sub: 'u', role: 'gp', org: 'Y90001' }, { issuer: 'https://idp.test', audience: 'cb', expiresInSeconds: 60 });
    expect((await auth.authenticate(`Bearer ${good}`)).status).toBe('authenticated');
    const [h, p, sig] = good.split('.') as [string, string, string];
    const tampered = `${h}.${p}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    expect(await auth.authenticate(`Bearer ${tampered}`)).toEqual({ status: 'invalid', reason: 'bad-signature', claimedSubject: 'u' });
  });
});
