import type { CodeableConcept, ContactPoint, HumanName, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { dateUtc } from '../utc';

/**
 * The record as the passport builders read it: every resource by reference, and the small text
 * helpers that turn FHIR into what a nurse reads at 3 a.m. Pure.
 */
export class RecordIndex {
  private readonly byRef = new Map<string, Resource>();

  constructor(readonly resources: readonly Resource[]) {
    for (const r of resources) this.byRef.set(refOf(r), r);
  }

  get(reference: Reference | undefined): Resource | undefined {
    return reference?.reference ? this.byRef.get(reference.reference) : undefined;
  }

  ofType<T extends Resource>(type: T['resourceType']): T[] {
    return this.resources.filter((r): r is T => r.resourceType === type);
  }
}

export const refOf = (r: Pick<Resource, 'resourceType' | 'id'>): string => `${r.resourceType}/${r.id ?? ''}`;

export function conceptText(concept: CodeableConcept | undefined): string {
  if (!concept) return '';
  return concept.text ?? concept.coding?.find((c) => c.display)?.display ?? concept.coding?.[0]?.code ?? '';
}

export function hasCode(concept: CodeableConcept | readonly CodeableConcept[] | undefined, system: string, codes: readonly string[]): boolean {
  const list: readonly CodeableConcept[] = concept === undefined ? [] : Array.isArray(concept) ? (concept as readonly CodeableConcept[]) : [concept as CodeableConcept];
  return list.some((c) => (c.coding ?? []).some((k) => k.system === system && codes.includes(k.code ?? '')));
}

export function personName(names: readonly HumanName[] | undefined): string {
  const name = names?.find((n) => n.use === 'official') ?? names?.find((n) => n.use !== 'nickname' && n.use !== 'old') ?? names?.[0];
  if (!name) return 'Name not recorded';
  if (!name.family && name.text) return name.text;
  return [(name.family ?? '').toUpperCase(), (name.given ?? []).join(' ')].filter(Boolean).join(', ');
}

/** "Dr Anna Hughes": how a name is written in a list of contacts. */
export function plainName(names: readonly HumanName[] | undefined): string {
  const name = names?.[0];
  if (!name) return '';
  if (name.text) return name.text;
  return [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ');
}

export function referenceText(ref: Reference | undefined, index: RecordIndex): string {
  if (!ref) return '';
  const target = index.get(ref);
  if (target && 'name' in target) {
    const name = (target as { name?: unknown }).name;
    if (typeof name === 'string') return name;
    if (Array.isArray(name)) return plainName(name as HumanName[]);
  }
  return ref.display ?? ref.identifier?.value ?? '';
}

export function phoneOf(telecom: readonly ContactPoint[] | undefined): string | undefined {
  return telecom?.find((t) => t.system === 'phone' && t.value)?.value;
}

export function phoneOfReference(ref: Reference | undefined, index: RecordIndex): string | undefined {
  const target = index.get(ref);
  return target ? phoneOf((target as { telecom?: ContactPoint[] }).telecom) : undefined;
}

/** "999 000 0018": the NHS number as people read it. */
export function formatNhsNumber(value: string): string {
  return /^\d{10}$/.test(value) ? `${value.slice(0, 3)} ${value.slice(3, 6)} ${value.slice(6)}` : value;
}

const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' });
const DAY_TIME = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Europe/London' });

/** A FHIR date or dateTime for UK readers, in UK time: "12 April 1938", "20 November 2026, 02:40". */
export function formatDate(value: string | undefined): string {
  if (!value) return '';
  if (/^\d{4}$/.test(value)) return value;
  if (/^\d{4}-\d{2}$/.test(value)) {
    const [y, m] = value.split('-');
    return new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(dateUtc(Number(y), Number(m) - 1, 1)));
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split('-').map(Number);
    return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(dateUtc(y ?? 0, (m ?? 1) - 1, d ?? 1)));
  }
  const time = Date.parse(value);
  if (Number.isNaN(time)) return value;
  return /T\d{2}:\d{2}/.test(value) ? DAY_TIME.format(new Date(time)).replace(' at ', ', ') : DAY.format(new Date(time));
}

/** Whole years between a birth date and a moment. */
export function ageAt(birthDate: string | undefined, at: string): number | undefined {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return undefined;
  const [by, bm, bd] = birthDate.split('-').map(Number);
  const now = new Date(at);
  let age = now.getUTCFullYear() - (by ?? 0);
  if (now.getUTCMonth() + 1 < (bm ?? 0) || (now.getUTCMonth() + 1 === bm && now.getUTCDate() < (bd ?? 0))) age--;
  return age;
}

/** The source's organisation name and a date, for a row's "From …". */
export function sourceLine(resource: Resource, sourceNames: Readonly<Record<string, string>>, date?: string): string | undefined {
  const source = resource.meta?.source;
  const name = source ? (sourceNames[source] ?? hostOf(source)) : undefined;
  const when = formatDate(date);
  const parts = [name, when].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function hostOf(uri: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/:]+)/i.exec(uri);
  return match?.[1] ?? uri;
}

export function isActiveStatus(resource: Resource): boolean {
  const r = resource as { status?: string; clinicalStatus?: CodeableConcept };
  if (r.clinicalStatus) return hasCode(r.clinicalStatus, r.clinicalStatus.coding?.[0]?.system ?? '', ['active', 'recurrence', 'relapse']);
  return r.status === undefined || ['active', 'in-progress', 'intended', 'on-hold', 'current', 'final', 'completed', 'registered', 'amended', 'draft'].includes(r.status);
}

export function primaryPatient(index: RecordIndex, subjectId: string): Patient | undefined {
  return index.ofType<Patient>('Patient').find((p) => p.id === subjectId);
}
