import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { verifySignature } from '../../gateway/notify/webhook';
import type { SqlClient } from '../../gateway/store/engine';
import { subscriptionStatus } from './world';

/**
 * A real webhook receiver on 127.0.0.1: records every POST, verifies the HMAC signature with the
 * subscription's secret as a subscriber would, and answers as scripted (a status, or a delay longer
 * than the sender's timeout) per request, in order.
 */
export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly bundle: Bundle;
  readonly signatureValid: boolean;
  readonly answered: number | 'timeout';
}

/** An answer: a status, or a delay beyond the sender's timeout; `when` restricts it to matching notifications. */
export type Script = number | { status: number; delayMs?: number; when?: (bundle: Bundle) => boolean };

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Accepted (2xx) notifications only, in arrival order. */
  accepted(): Received[];
  /** Answers for the next requests, first to last; afterwards 200. */
  script(...answers: Script[]): void;
  /** The secret to verify with (set once the subscription is created). */
  secret: string;
  close(): Promise<void>;
}

export function eventOf(r: Received): { number: number; kind: string; focus: string; topic: string } {
  const status = r.bundle.entry?.[0]?.resource as Parameters;
  const event = status.parameter?.find((p) => p.name === 'notification-event');
  return {
    number: Number(event?.part?.find((p) => p.name === 'event-number')?.valueString),
    kind: event?.extension?.[0]?.valueCode ?? '',
    focus: event?.part?.find((p) => p.name === 'focus')?.valueReference?.reference ?? '',
    topic: status.parameter?.find((p) => p.name === 'topic')?.valueCanonical ?? '',
  };
}

/** The notification's type (handshake, heartbeat, event-notification) and the subscription it names. */
export function notificationOf(r: Received): { type: string; subscription: string; eventsSinceStart: string } {
  const params = (r.bundle.entry?.[0]?.resource as Parameters).parameter ?? [];
  return {
    type: params.find((p) => p.name === 'type')?.valueCode ?? '',
    subscription: params.find((p) => p.name === 'subscription')?.valueReference?.reference ?? '',
    eventsSinceStart: params.find((p) => p.name === 'events-since-subscription-start')?.valueString ?? '',
  };
}

/**
 * Waits until the subscription's handshake has been answered and the subscription is active, then
 * takes the handshake off the receiver's list, so a test of events sees only events.
 */
export async function handshakeAnswered(receiver: Receiver, db: SqlClient, id: string): Promise<void> {
  const mine = (r: Received): boolean => notificationOf(r).type === 'handshake' && notificationOf(r).subscription.endsWith(`/Subscription/${id}`);
  await waitFor(async () => receiver.accepted().some(mine) && (await subscriptionStatus(db, id)) === 'active', 15_000, 'the handshake');
  const rest = receiver.received.filter((r) => !mine(r));
  receiver.received.splice(0, receiver.received.length, ...rest);
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const answers: Script[] = [];
  const receiver = {
    url: '',
    received,
    secret: '',
    accepted: () => received.filter((r) => r.answered !== 'timeout' && r.answered >= 200 && r.answered < 300),
    script: (...more: Script[]) => {
      answers.push(...more);
    },
    close: (): Promise<void> => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const bundle = JSON.parse(body.toString('utf8')) as Bundle;
      const index = answers.findIndex((a) => typeof a === 'number' || !a.when || a.when(bundle));
      const answer = index >= 0 ? (answers.splice(index, 1)[0] as Script) : 200;
      const status = typeof answer === 'number' ? answer : answer.status;
      const delayed = typeof answer === 'number' ? 0 : (answer.delayMs ?? 0);
      const record = (answered: number | 'timeout'): void => {
        received.push({
          path: req.url ?? '',
          headers: req.headers,
          body,
          bundle,
          signatureValid: verifySignature(receiver.secret, body, req.headers['x-carebridge-signature'] as string | undefined),
          answered,
        });
      };
      if (delayed > 0) {
        // The sender gives up first: it counts as a timeout; the late answer goes nowhere.
        record('timeout');
        setTimeout(() => {
          if (!res.destroyed) res.writeHead(status).end();
        }, delayed).unref();
        return;
      }
      record(status);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

export async function waitFor(check: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
