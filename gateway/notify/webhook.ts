import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

/**
 * The rest-hook channel: one HTTP POST per notification, signed. Node's own http(s) client with
 * keep-alive agents: a request, a timeout and a status code is all this needs, so no dependency.
 */

export const SIGNATURE_HEADER = 'X-CareBridge-Signature';
export const IDEMPOTENCY_HEADER = 'X-CareBridge-Idempotency-Key';
export const EVENT_NUMBER_HEADER = 'X-CareBridge-Event-Number';
export const SUBSCRIPTION_HEADER = 'X-CareBridge-Subscription';

/** `sha256=<hex>` of HMAC-SHA256 over the exact body bytes with the subscription's secret. */
export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time. */
export function verifySignature(secret: string, body: Buffer | string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

export class DeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** POSTs and resolves on a 2xx; rejects with a DeliveryError naming the status, the timeout or the network error (no body echoed). */
export function postNotification(endpoint: string, body: Buffer, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(endpoint);
    const secure = url.protocol === 'https:';
    const request = (secure ? https : http).request(
      url,
      { method: 'POST', agent: secure ? agents.https : agents.http, headers: { ...headers, 'Content-Type': 'application/fhir+json', 'Content-Length': String(body.length) } },
      (response) => {
        response.resume();
        response.once('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(status);
          else reject(new DeliveryError(`HTTP ${String(status)}`));
        });
        response.once('error', (err) => reject(new DeliveryError(`response error: ${err.message}`)));
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new DeliveryError(`timed out after ${String(timeoutMs)} ms`)));
    request.once('error', (err) => reject(err instanceof DeliveryError ? err : new DeliveryError(`${(err as NodeJS.ErrnoException).code ?? 'network error'}: ${err.message}`)));
    request.end(body);
  });
}

/** A subscription's `channel.header` lines ("Name: value") as request headers. */
function headerMap(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export interface SignedPost {
  readonly endpoint: string;
  readonly secret: string;
  /** The subscription's own headers. */
  readonly headers: readonly string[];
  readonly subscriptionId: string;
  readonly idempotencyKey: string;
  /** Event notifications only. */
  readonly eventNumber?: string;
  readonly timeoutMs: number;
}

/** A notification Bundle to a rest-hook endpoint: serialised once, signed, with our headers after the subscription's. */
export function postSignedBundle(post: SignedPost, bundle: unknown): Promise<number> {
  const body = Buffer.from(JSON.stringify(bundle));
  return postNotification(
    post.endpoint,
    body,
    {
      ...headerMap(post.headers),
      [SIGNATURE_HEADER]: signBody(post.secret, body),
      [IDEMPOTENCY_HEADER]: post.idempotencyKey,
      ...(post.eventNumber !== undefined ? { [EVENT_NUMBER_HEADER]: post.eventNumber } : {}),
      [SUBSCRIPTION_HEADER]: post.subscriptionId,
    },
    post.timeoutMs,
  );
}
