import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import type { SqlClient } from '../../gateway/store/engine';

/**
 * Helpers for tests of the viewer against a running gateway: an HL7 admission happening now (so
 * it is on today's worklist), signing in as a persona over plain HTTP, and the CSRF token of a page.
 */

/** HL7 v2 date-time in UK local time, as the hospital's PAS sends it. */
function hl7Now(now: Date): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).formatToParts(now);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}${get('month')}${get('day')}${get('hour') === '24' ? '00' : get('hour')}${get('minute')}${get('second')}`;
}

/** PV1 with the given fields (by number, HL7 v2.4 §3.4.3). */
function pv1(fields: Readonly<Record<number, string>>): string {
  const last = Math.max(...Object.keys(fields).map(Number));
  return ['PV1', '1', ...Array.from({ length: last - 1 }, (_, i) => fields[i + 2] ?? '')].join('|');
}

/** An A01 admission to Ward 7 of RZZ now, for a synthetic person registered with the practice Y90001. */
export function admissionNow(person: { nhsNumber: string; family: string; given: string; visit: string }, now: Date): Buffer {
  const at = hl7Now(now);
  const segments = [
    `MSH|^~\\&|PAS|RZZ|CAREBRIDGE|CAREBRIDGE|${at}||ADT^A01^ADT_A01|A01-${person.visit}|P|2.4|||AL|NE`,
    `EVN|A01|${at}||||${at}`,
    `PID|1||RZZ-${person.visit}^^^RZZ^MR~${person.nhsNumber}^^^NHS^NH||${person.family.toUpperCase()}^${person.given}^^^Mx^^L||19450302|F|||3 Sample Street^Littletown^Northfield^Northshire^NF1 2AB^GBR^H|||||||||||||||||||||01`,
    `PD1|||Demo Lane Surgery^^Y90001`,
    pv1({ 2: 'I', 3: 'WARD7^BAY1^BED2^RZZ^^^^^Ward 7 Bay 1 Bed 2', 4: '21', 7: 'C1234567^Consultant^Carys^^^Dr^^^RZZ', 10: '300', 14: '19', 19: `V-${person.visit}^^^RZZ^VN`, 44: at }),
  ];
  return Buffer.from(`${segments.join('\r')}\r`, 'latin1');
}

export async function patientIdsByNhsNumber(db: SqlClient, nhsNumber: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(`SELECT id FROM resource WHERE resource_type = 'Patient' AND content->'identifier' @> $1::jsonb ORDER BY id`, [JSON.stringify([{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }])]);
  return rows.rows.map((r) => r.id);
}

/** Waits (polling, no timing asserted) until the condition holds. */
export async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`${what} did not happen in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Signs in as a persona by the development sign-in form; returns the session cookie. */
export async function signInCookie(base: string, persona: string): Promise<string> {
  const res = await fetch(`${base}/sign-in`, { method: 'POST', redirect: 'manual', headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' }, body: `persona=${encodeURIComponent(persona)}` });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (res.status !== 303 || !cookie) throw new Error(`sign-in as ${persona} failed (${String(res.status)})`);
  return cookie;
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('the page has no CSRF token');
  return match[1];
}
