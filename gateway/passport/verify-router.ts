import express, { type Router } from 'express';
import { compositionOf, parseDocumentIdentifier } from '../../mappings/passport/document';
import { formatDate } from '../../mappings/passport/record-text';
import { HttpOutcomeError } from '../api/errors';
import { escapeHtml } from './html-escape';
import type { PassportKeySet } from './signing';

/**
 * The public side of a passport (specs/red-bag-passport.md: "The verification page says only
 * whether a document is authentic, unchanged and current, and who issued it when; it shows no
 * clinical content to a caller who is not signed in"):
 *   GET  /passport/jwks.json  the public keys, for anyone who wants to verify offline
 *   POST /passport/verify     a passport document (JSON) → whether it is authentic, unchanged, current
 *   GET  /passport/verify?id=&v=&h=  the page the printed QR code opens: what that fingerprint is
 */

export interface VersionLookup {
  readonly current: boolean;
  readonly version: number;
  readonly latestVersion: number;
  readonly issuedAt: string;
  readonly issuedBy: string;
}

export interface FingerprintLookup {
  readonly known: boolean;
  readonly current: boolean;
  readonly latestVersion: number;
  readonly issuedAt?: string;
  readonly issuedBy?: string;
  readonly audience?: string;
  readonly kind?: string;
}

export interface VerifyRouterOptions {
  readonly keys: PassportKeySet;
  readonly lookup: (documentIdentifier: string) => Promise<VersionLookup | undefined>;
  readonly lookupFingerprint: (passportId: string, version: number, fingerprint: string) => Promise<FingerprintLookup>;
}

const page = (title: string, body: string): string =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)} – CareBridge</title></head>` +
  `<body><main><h1>${escapeHtml(title)}</h1>${body}<p><small>CareBridge shared care record. This page never shows anything about the person.</small></p></main></body></html>`;

export function passportVerifyRouter(options: VerifyRouterOptions): Router {
  const router = express.Router();

  router.get('/jwks.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(options.keys.jwks());
  });

  router.post('/verify', express.json({ limit: '5mb', type: ['application/json', 'application/fhir+json'] }), async (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== 'Bundle') {
      throw new HttpOutcomeError(400, 'invalid', 'Send the passport document: a FHIR Bundle of type document, as JSON');
    }
    const result = await options.keys.verify(body);
    const identifier = (body as { identifier?: { value?: unknown } }).identifier?.value;
    const parsed = typeof identifier === 'string' ? parseDocumentIdentifier(identifier) : undefined;
    const issued = result.valid && parsed ? await options.lookup(`${parsed.passportId}/${String(parsed.version)}`) : undefined;
    const composition = result.valid ? compositionOf(body as never) : undefined;
    res.json({
      authentic: result.valid,
      unchanged: result.valid,
      ...(result.valid
        ? { signedAt: result.signedAt, signer: result.signer, kid: result.kid, ...(composition?.title ? { title: composition.title } : {}) }
        : { reason: result.reason }),
      ...(result.fingerprint ? { fingerprint: result.fingerprint } : {}),
      ...(issued ? { current: issued.current, version: issued.version, latestVersion: issued.latestVersion, issuedAt: issued.issuedAt, issuedBy: issued.issuedBy } : result.valid ? { current: false, reason: 'signed by CareBridge, but this server holds no record of the version' } : {}),
    });
  });

  router.get('/verify', async (req, res) => {
    const q = (name: string): string => (typeof req.query[name] === 'string' ? req.query[name] : '');
    const id = q('id');
    const version = Number(q('v'));
    const fingerprint = q('h').toLowerCase();
    res.setHeader('Cache-Control', 'no-store');
    if (!/^[A-Za-z0-9.-]{1,64}$/.test(id) || !Number.isInteger(version) || version < 1 || !/^[a-f0-9]{16,64}$/.test(fingerprint)) {
      res.status(400).type('html').send(page('This is not a passport verification link', '<p>The address is incomplete. Scan the code on the passport again, or type the address printed under it.</p>'));
      return;
    }
    const found = await options.lookupFingerprint(id, version, fingerprint);
    if (!found.known) {
      res.status(404).type('html').send(page('Not a passport CareBridge issued', `<p><strong>We cannot find a passport with fingerprint ${escapeHtml(fingerprint)}.</strong> The copy may have been altered, or was not issued by CareBridge. Do not rely on it: ask the care home or the hospital for the current passport.</p>`));
      return;
    }
    const kind = found.kind === 'discharge-passport' ? 'Discharge passport' : 'Hospital transfer passport';
    const current = found.current
      ? '<p><strong>It is the current version.</strong></p>'
      : `<p><strong>It is out of date:</strong> version ${String(found.latestVersion)} has been issued since. Ask for the current passport.</p>`;
    res.type('html').send(
      page(
        'Authentic passport',
        `<p>${escapeHtml(kind)}, version ${String(version)}, issued ${escapeHtml(formatDate(found.issuedAt))} for ${escapeHtml(found.issuedBy ?? '')} through CareBridge${found.audience ? `, as a copy for ${escapeHtml(found.audience)}` : ''}.</p>` +
          `<p>The printed fingerprint ${escapeHtml(fingerprint)} matches the signed document CareBridge issued: check it against the one printed on your copy.</p>${current}`,
      ),
    );
  });

  return router;
}
