import type { Encounter, EncounterLocation, Extension, Location, Period, Reference } from '@medplum/fhirtypes';
import { PLANNED_END_EXTENSION, PLANNED_START_EXTENSION, UNKNOWN_CLASS } from './tables/encounter';
import { TRIGGERS, VisitEffect } from './tables/events';
import { UK_CORE_EXTENSION } from './tables/uk-core-codes';
import { VISIT_FIELDS, type VisitEvent, type VisitFacts, type VisitField } from './visit-event';

/**
 * Out-of-order safety for visits. The gateway keeps every applied VisitEvent of a visit and folds
 * them, in event order, into the Encounter: a discharge that arrives before its admission, or an
 * A08 older than the last change, gives the same Encounter as the messages in order would.
 *
 * Order: event time (EVN-6, else EVN-2, else MSH-7), then message time (MSH-7), then MSH-10.
 * The same MSH-10 twice is one event. Cancellations undo the event they cancel: A12 the latest
 * transfer before it, A13 the latest discharge, A25 the latest pending discharge, A27 the latest
 * pending admission (the visit is then cancelled unless it started); A11 marks the visit cancelled
 * (entered-in-error once it had started) until a later start. Cancellation messages contribute
 * no visit details of their own. A08 changes details, never the status.
 */

function instant(value: string): number {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? 0 : ms;
}

/** The fold's total order of events. */
export function compareVisitEvents(a: VisitEvent, b: VisitEvent): number {
  return instant(a.eventTime) - instant(b.eventTime) || instant(a.messageTime) - instant(b.messageTime) || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0);
}

/** Events in fold order, one per MSH-10. */
export function orderVisitEvents(events: readonly VisitEvent[]): VisitEvent[] {
  const byId = new Map<string, VisitEvent>();
  for (const e of events) if (!byId.has(e.messageId)) byId.set(e.messageId, e);
  return [...byId.values()].sort(compareVisitEvents);
}

/** The events still in force once cancellations have removed what they cancel. */
function effectiveEvents(ordered: readonly VisitEvent[]): VisitEvent[] {
  const effective: VisitEvent[] = [];
  const removeLast = (effect: VisitEffect): void => {
    for (let i = effective.length - 1; i >= 0; i--) {
      const candidate = effective[i];
      if (candidate && TRIGGERS[candidate.trigger].visit === effect) {
        effective.splice(i, 1);
        return;
      }
    }
  };
  for (const event of ordered) {
    const effect = TRIGGERS[event.trigger].visit;
    switch (effect) {
      case VisitEffect.CANCEL_TRANSFER:
        removeLast(VisitEffect.TRANSFER);
        break;
      case VisitEffect.CANCEL_FINISH:
        removeLast(VisitEffect.FINISH);
        break;
      case VisitEffect.CANCEL_PENDING_DISCHARGE:
        removeLast(VisitEffect.PENDING_DISCHARGE);
        break;
      case VisitEffect.CANCEL_PLAN:
        removeLast(VisitEffect.PLAN);
        effective.push(event);
        break;
      case VisitEffect.CANCEL_START:
      case VisitEffect.PLAN:
      case VisitEffect.START:
      case VisitEffect.TRANSFER:
      case VisitEffect.PENDING_DISCHARGE:
      case VisitEffect.FINISH:
      case VisitEffect.UPDATE:
        effective.push(event);
        break;
    }
  }
  return effective;
}

interface Stay {
  location: Reference<Location>;
  start?: string;
  end?: string;
}

type Details = { -readonly [K in Exclude<VisitField, 'location'>]?: VisitFacts[K] };

interface FoldState {
  status: Encounter['status'] | undefined;
  started: boolean;
  startTime: string | undefined;
  finishTime: string | undefined;
  stays: Stay[];
  details: Details;
}

/** Every visit field but the location, which the stays carry. */
const DETAIL_FIELDS = VISIT_FIELDS.filter((field): field is Exclude<VisitField, 'location'> => field !== 'location');

/** Present replaces, `""` deletes, absent leaves alone. */
function mergeDetails(details: Details, facts: VisitFacts): void {
  for (const field of DETAIL_FIELDS) {
    const value = facts[field];
    if (value !== undefined) (details as Record<string, unknown>)[field] = value;
    else if (facts.cleared.includes(field)) (details as Record<string, unknown>)[field] = undefined;
  }
}

function openStay(state: FoldState): Stay | undefined {
  const last = state.stays[state.stays.length - 1];
  return last && last.end === undefined ? last : undefined;
}

/** PV1-3 outside a transfer: where the patient is now (a correction of the current stay, or the first one). */
function noteLocation(state: FoldState, facts: VisitFacts): void {
  const current = openStay(state);
  if (facts.cleared.includes('location') && current) state.stays.pop();
  if (!facts.location) return;
  if (current && !facts.cleared.includes('location')) current.location = facts.location;
  else state.stays.push({ location: facts.location });
}

function transfer(state: FoldState, event: VisitEvent): void {
  const current = openStay(state);
  if (current) current.end = event.eventDateTime;
  if (event.facts.location) state.stays.push({ location: event.facts.location, start: event.eventDateTime });
}

function applyEvent(state: FoldState, event: VisitEvent): void {
  const effect = TRIGGERS[event.trigger].visit;
  const contributesDetails = effect !== VisitEffect.CANCEL_START && effect !== VisitEffect.CANCEL_PLAN;
  if (contributesDetails) mergeDetails(state.details, event.facts);
  switch (effect) {
    case VisitEffect.PLAN:
      if (!state.started) state.status = 'planned';
      noteLocation(state, event.facts);
      break;
    case VisitEffect.START:
      state.status = 'in-progress';
      state.started = true;
      state.startTime ??= event.eventDateTime;
      noteLocation(state, event.facts);
      break;
    case VisitEffect.TRANSFER:
      if (state.status !== 'finished') state.status = 'in-progress';
      transfer(state, event);
      break;
    case VisitEffect.PENDING_DISCHARGE:
      if (state.status === undefined || state.status === 'planned') state.status = 'in-progress';
      noteLocation(state, event.facts);
      break;
    case VisitEffect.FINISH:
      state.status = 'finished';
      state.finishTime = event.eventDateTime;
      noteLocation(state, event.facts);
      break;
    case VisitEffect.UPDATE:
      noteLocation(state, event.facts);
      break;
    case VisitEffect.CANCEL_START:
      state.status = state.started ? 'entered-in-error' : 'cancelled';
      break;
    case VisitEffect.CANCEL_PLAN:
      if (!state.started) state.status = 'cancelled';
      break;
    case VisitEffect.CANCEL_TRANSFER:
    case VisitEffect.CANCEL_FINISH:
    case VisitEffect.CANCEL_PENDING_DISCHARGE:
      break;
  }
}

/** A period with the ends that are known (each a non-empty dateTime). */
function periodOf(start: string | undefined, end: string | undefined): Period {
  const period: Period = {};
  if (start) period.start = start;
  if (end) period.end = end;
  return period;
}

function locationStatus(stay: Stay, status: Encounter['status']): EncounterLocation['status'] {
  if (stay.end !== undefined) return 'completed';
  if (status === 'in-progress') return 'active';
  if (status === 'planned') return 'planned';
  return undefined;
}

/**
 * The Encounter the events of one visit add up to, or undefined for none. All events must name
 * the same encounter (the gateway groups them by VisitFacts.encounterId).
 */
export function foldVisit(events: readonly VisitEvent[]): (Encounter & { id: string }) | undefined {
  const ordered = orderVisitEvents(events);
  const last = ordered[ordered.length - 1];
  if (!last) return undefined;
  const ids = new Set(ordered.map((e) => e.facts.encounterId));
  if (ids.size > 1) throw new Error('foldVisit: events of more than one encounter');

  const state: FoldState = { status: undefined, started: false, startTime: undefined, finishTime: undefined, stays: [], details: {} };
  for (const event of effectiveEvents(ordered)) applyEvent(state, event);

  const status = state.status ?? 'unknown';
  const finished = status === 'finished';
  const d = state.details;
  const start = d.admitTime ?? state.startTime;
  const end = finished ? (d.dischargeTime ?? state.finishTime) : undefined;
  const firstStay = state.stays[0];
  if (firstStay && firstStay.start === undefined && start !== undefined) firstStay.start = start;
  const lastStay = openStay(state);
  if (lastStay && end !== undefined) lastStay.end = end;

  const location: EncounterLocation[] = state.stays.map((stay) => {
    const stayStatus = locationStatus(stay, status);
    const entry: EncounterLocation = { location: stay.location };
    if (stayStatus) entry.status = stayStatus;
    if (stay.start || stay.end) entry.period = periodOf(stay.start, stay.end);
    return entry;
  });
  const extension: Extension[] = [
    ...(finished && d.dischargeMethod ? [{ url: UK_CORE_EXTENSION.DISCHARGE_METHOD, valueCodeableConcept: d.dischargeMethod }] : []),
    ...(d.expectedAdmission ? [{ url: PLANNED_START_EXTENSION, valueDateTime: d.expectedAdmission }] : []),
    ...(d.expectedDischarge ? [{ url: PLANNED_END_EXTENSION, valueDateTime: d.expectedDischarge }] : []),
  ];
  const hospitalization: Encounter['hospitalization'] = {
    ...(d.admissionMethod ? { extension: [{ url: UK_CORE_EXTENSION.ADMISSION_METHOD, valueCodeableConcept: d.admissionMethod }] } : {}),
    ...(d.admitSource ? { admitSource: d.admitSource } : {}),
    ...(finished && d.dischargeDestination ? { dischargeDisposition: d.dischargeDestination } : {}),
  };
  const facts = last.facts;
  return {
    resourceType: 'Encounter',
    id: facts.encounterId,
    meta: { source: facts.source },
    ...(extension.length ? { extension } : {}),
    identifier: [facts.visitNumber],
    status,
    class: d.class ?? UNKNOWN_CLASS,
    ...(d.serviceType ? { serviceType: d.serviceType } : {}),
    subject: facts.subject,
    ...(d.participant?.length ? { participant: d.participant } : {}),
    ...(start || end ? { period: periodOf(start, end) } : {}),
    ...(d.reasonCode?.length ? { reasonCode: d.reasonCode } : {}),
    ...(Object.keys(hospitalization).length ? { hospitalization } : {}),
    ...(location.length ? { location } : {}),
    ...(d.serviceProvider ? { serviceProvider: d.serviceProvider } : {}),
  };
}
