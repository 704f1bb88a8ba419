import type { Encounter, Patient, Reference, Resource } from '@medplum/fhirtypes';
import type { Hl7Segment, ParsedHl7 } from '../../adapters/hl7v2/types';
import { createScope, idFor, localSystem, type Hl7MappingContext, type MapScope } from './context';
import { simpleText } from './datatypes/field';
import type { ValidTimestamp } from './datatypes/ts-field';
import { mapDocument } from './document';
import { at, Hl7ErrorCode, IssueReason, missing, type Hl7MappingIssue } from './issues';
import { messageProvenance } from './provenance';
import { ResourceSet } from './resource-set';
import { mapAl1 } from './segments/al1';
import { mapDg1 } from './segments/dg1';
import { mapEvn } from './segments/evn';
import { mapMrg } from './segments/mrg';
import { mapMsh } from './segments/msh';
import { mapNk1 } from './segments/nk1';
import { mapPd1 } from './segments/pd1';
import { mapPid, type PatientMapping } from './segments/pid';
import { mapPv1 } from './segments/pv1';
import { mapPv2 } from './segments/pv2';
import { Hl7EventKind, isSupportedTrigger, isVisitTrigger, TRIGGERS, VisitEffect, type Hl7Trigger } from './tables/events';
import { foldVisit } from './visit-fold';
import type { VisitEvent } from './visit-event';

export type { Hl7MappingContext } from './context';

/** A40: the record merged away and the one that survives, by key and by Patient id. */
export interface MergeInstruction {
  readonly mergedPatientKey: string;
  readonly survivorPatientKey: string;
  readonly mergedPatientId: string;
  readonly survivorPatientId: string;
}

export interface Hl7Event {
  readonly kind: Hl7EventKind;
  readonly trigger: Hl7Trigger;
  readonly messageType: 'ADT' | 'MDM';
  /** MSH-10. */
  readonly controlId: string;
  /** EVN-6, else EVN-2, else MSH-7: UTC instant ('...Z'). Order events by this, then messageTime, then controlId. */
  readonly eventTime: string;
  /** MSH-7 (else eventTime): UTC instant. */
  readonly messageTime: string;
  /** The sender's key for the person (first local record number; see segments/pid.ts). */
  readonly patientKey: string;
  readonly patientId: string;
  /** PV1-19 visit number with this sender. */
  readonly visitKey?: string;
  readonly encounterId?: string;
  /** The message says the patient has died (PID-29/30, or discharge method 4 / destination 79). */
  readonly patientDeceased: boolean;
  readonly merge?: MergeInstruction;
  readonly documentId?: string;
}

/** An element the message deleted with `""` (HL7 v2.5.1 §2.5.3): `path` is `Type.element` or `Type.extension('url')`. */
export interface ClearedElement {
  readonly reference: string;
  readonly path: string;
}

export interface Hl7MappingResult {
  /** Undefined when the message cannot be applied to anyone (unsupported, no patient identifier, no time). */
  readonly event: Hl7Event | undefined;
  /**
   * Patient, then Encounter (this message alone: foldVisit([visit])), DocumentReference,
   * RelatedPerson, AllergyIntolerance, Condition, Organization, Practitioner, Location, and the
   * message's Provenance last.
   */
  readonly resources: Resource[];
  readonly issues: Hl7MappingIssue[];
  /** Elements to delete from the stored resources (non-Encounter; the Encounter's are in visit.facts.cleared). */
  readonly cleared: ClearedElement[];
  /** The visit facts of this message, for the gateway to store and fold with the visit's other events. */
  readonly visit: VisitEvent | undefined;
}

/** Segments each message type maps; anything else (Z-segments, ROL, GT1, IN1, OBX in ADT...) is reported. */
const MAPPED_SEGMENTS: Readonly<Record<'ADT' | 'MDM', ReadonlySet<string>>> = {
  ADT: new Set(['MSH', 'EVN', 'PID', 'PD1', 'NK1', 'PV1', 'PV2', 'AL1', 'DG1', 'MRG']),
  MDM: new Set(['MSH', 'EVN', 'PID', 'PV1', 'TXA', 'OBX']),
};

/** Segments mapped once: a second one (a further A40 patient group, say) is reported, not mapped. */
const SINGLE_SEGMENTS = new Set(['EVN', 'PID', 'PD1', 'PV1', 'PV2', 'MRG', 'TXA']);

function reportUnmappedSegments(scope: MapScope, message: ParsedHl7, messageType: 'ADT' | 'MDM'): void {
  const seen = new Set<string>();
  for (const segment of message.segments) {
    const mapped = MAPPED_SEGMENTS[messageType].has(segment.name);
    const repeated = SINGLE_SEGMENTS.has(segment.name) && seen.has(segment.name);
    seen.add(segment.name);
    if (mapped && !repeated) continue;
    const text = segment.name.startsWith('Z')
      ? `Z-segment ${segment.name} is local to the sender and not mapped`
      : repeated
        ? `Further ${segment.name} segment not mapped (only the first is)`
        : `${segment.name} segment is not mapped for ${messageType}`;
    scope.issues.warning(Hl7ErrorCode.ACCEPTED, IssueReason.SEGMENT_NOT_MAPPED, at(segment), text);
  }
}

function unsupported(scope: MapScope, message: ParsedHl7): Hl7MappingResult | undefined {
  const { messageCode, triggerEvent } = message.header;
  const msh = message.segment('MSH');
  const location = msh ? at(msh, 9) : missing('MSH', 9);
  if (messageCode !== 'ADT' && messageCode !== 'MDM') {
    scope.issues.error(Hl7ErrorCode.UNSUPPORTED_MESSAGE_TYPE, IssueReason.UNSUPPORTED_MESSAGE_TYPE, location, `Message type ${messageCode || '(empty)'} is not supported`);
  } else if (!isSupportedTrigger(triggerEvent) || TRIGGERS[triggerEvent].messageType !== messageCode) {
    scope.issues.error(Hl7ErrorCode.UNSUPPORTED_EVENT_CODE, IssueReason.UNSUPPORTED_EVENT, msh ? at(msh, 9, 2) : location, `Event ${messageCode}^${triggerEvent || '(empty)'} is not supported`);
  } else return undefined;
  return { event: undefined, resources: [], issues: scope.issues.items, cleared: [], visit: undefined };
}

function eventKind(trigger: Hl7Trigger, patientClass: string, died: boolean): Hl7EventKind {
  if (trigger === 'A04' && patientClass === 'E') return Hl7EventKind.ED_ATTENDANCE;
  if (trigger === 'A03' && died) return Hl7EventKind.DEATH;
  return TRIGGERS[trigger].kind;
}

/** PV1 of person-level ADT events (A28, A31, A40) is a placeholder; visit details in it are reported, not applied. */
function reportPersonLevelVisit(scope: MapScope, pv1: Hl7Segment | undefined): void {
  if (pv1 && simpleText(pv1, 19)) {
    scope.issues.warning(Hl7ErrorCode.ACCEPTED, IssueReason.SEGMENT_NOT_MAPPED, at(pv1), 'PV1 of a person-level event is not applied to any visit');
  }
}

/** PV1 in MDM only links the document to its visit (PV1-19). */
function reportDocumentVisit(scope: MapScope, pv1: Hl7Segment | undefined): void {
  if (!pv1) return;
  for (let seq = 3; seq <= pv1.fieldCount; seq++) {
    if (seq !== 19 && pv1.repetitions(seq) > 0) {
      scope.issues.information(Hl7ErrorCode.ACCEPTED, IssueReason.FIELD_NOT_MAPPED, at(pv1), 'PV1 in MDM is used only for PV1-19 (the visit the document belongs to)');
      return;
    }
  }
}

interface Times {
  readonly eventTime: ValidTimestamp | undefined;
  readonly messageTime: ValidTimestamp | undefined;
}

/**
 * An HL7v2 ADT or MDM message → FHIR resources, the event for the outbox, the visit facts for the
 * fold, and the issues for the ACK. Pure: the same message and context give the same result.
 * Any issue of severity 'error' means the gateway answers AE and applies nothing.
 */
export function mapHl7Message(message: ParsedHl7, context: Hl7MappingContext): Hl7MappingResult {
  const scope = createScope(context);
  const rejected = unsupported(scope, message);
  if (rejected) return rejected;
  const trigger = message.header.triggerEvent as Hl7Trigger;
  const definition = TRIGGERS[trigger];
  const messageType = definition.messageType;
  const resources = new ResourceSet();
  const msh = message.segment('MSH');

  if (!message.header.controlId.trim()) {
    scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, msh ? at(msh, 10) : missing('MSH', 10), 'MSH-10 message control id is empty');
  }
  const header = mapMsh(scope, message, resources);
  const evn = message.segment('EVN');
  if (!evn && messageType === 'ADT') {
    scope.issues.warning(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.MISSING_SEGMENT, missing('EVN'), 'ADT message has no EVN segment; the message date/time is used');
  }
  const evnTimes = evn ? mapEvn(scope, evn) : { occurred: undefined, recorded: undefined };
  const times: Times = { eventTime: evnTimes.occurred ?? evnTimes.recorded ?? header.messageTime, messageTime: header.messageTime };
  reportUnmappedSegments(scope, message, messageType);

  const pid = message.segment('PID');
  if (!pid) {
    scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.MISSING_SEGMENT, missing('PID'), 'Message has no PID segment');
    return { event: undefined, resources: [], issues: scope.issues.items, cleared: [], visit: undefined };
  }
  const person = mapPid(scope, pid, times.messageTime?.instant ?? times.eventTime?.instant);
  const eventTime = times.eventTime;
  if (!eventTime?.instant) {
    scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, msh ? at(msh, 7) : missing('MSH', 7), 'No usable event time: EVN-6, EVN-2 and MSH-7 are all empty or invalid');
  }
  if (!person || !eventTime?.instant) return { event: undefined, resources: [], issues: scope.issues.items, cleared: [], visit: undefined };
  const eventInstant = eventTime.instant;

  const patient = person.patient;
  const patientRef: Reference<Patient> = { reference: `Patient/${patient.id}` };
  const cleared: ClearedElement[] = person.cleared.map((path) => ({ reference: patientRef.reference ?? '', path }));
  const pd1 = message.segment('PD1');
  if (pd1 && messageType === 'ADT') {
    const gp = mapPd1(scope, pd1, resources);
    if (gp.generalPractitioner.length) patient.generalPractitioner = gp.generalPractitioner;
    cleared.push(...gp.cleared.map((path) => ({ reference: patientRef.reference ?? '', path })));
  }

  const pv1 = message.segment('PV1');
  const visitKey = pv1 ? simpleText(pv1, 19) || undefined : undefined;
  const encounterId = visitKey ? idFor(scope, 'Encounter', visitKey) : undefined;
  const encounterRef: Reference<Encounter> | undefined = encounterId ? { reference: `Encounter/${encounterId}` } : undefined;

  let visit: VisitEvent | undefined;
  let patientClass = '';
  let dischargeSaysDied = false;
  if (isVisitTrigger(trigger)) {
    if (!pv1) {
      scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.MISSING_SEGMENT, missing('PV1'), `${trigger} has no PV1 segment`);
    } else {
      const mapped = mapPv1(scope, pv1, resources);
      patientClass = mapped.patientClass;
      const pv2 = message.segment('PV2');
      if (pv2) mapPv2(scope, pv2, mapped.facts);
      dischargeSaysDied = mapped.facts.dischargeMethod?.coding?.[0]?.code === '4' || mapped.facts.dischargeDestination?.coding?.[0]?.code === '79';
      if (!encounterId || !visitKey) {
        const text = 'PV1-19 visit number is empty; the event cannot be applied to a visit';
        if (definition.visit === VisitEffect.UPDATE) scope.issues.warning(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, at(pv1, 19), text);
        else scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, at(pv1, 19), text);
      } else {
        visit = {
          messageId: message.header.controlId,
          trigger,
          eventTime: eventInstant,
          eventDateTime: eventTime.dateTime,
          messageTime: times.messageTime?.instant ?? eventInstant,
          facts: {
            encounterId,
            source: scope.source,
            visitNumber: { system: localSystem.visitNumber(scope.source), value: visitKey },
            subject: patientRef,
            ...mapped.facts,
            ...(header.sendingFacility ? { serviceProvider: header.sendingFacility } : {}),
            cleared: mapped.facts.cleared,
          },
        };
      }
    }
  } else if (messageType === 'ADT') reportPersonLevelVisit(scope, pv1);
  else reportDocumentVisit(scope, pv1);
  const encounter = visit ? foldVisit([visit]) : undefined;

  const others: Resource[] = [];
  if (messageType === 'ADT') {
    message.all('NK1').forEach((segment, i) => {
      const related = mapNk1(scope, segment, person.patientKey, patientRef, i + 1);
      if (related) others.push(related);
    });
    for (const segment of message.all('AL1')) {
      const allergy = mapAl1(scope, segment, person.patientKey, patientRef);
      if (allergy) others.push(allergy);
    }
    for (const segment of message.all('DG1')) {
      const condition = mapDg1(scope, segment, { ownerKey: visitKey ?? person.patientKey, patient: patientRef, encounter: encounterRef }, resources);
      if (condition) others.push(condition);
    }
  }

  let merge: MergeInstruction | undefined;
  if (trigger === 'A40') merge = mergeInstruction(scope, message, person);

  const document = messageType === 'MDM' ? mapDocument(scope, message, { patient: patientRef, encounter: encounterRef, custodian: header.sendingFacility, resources }) : undefined;

  const mapped = [patient, ...(encounter ? [encounter] : []), ...(document ? [document] : []), ...others, ...resources.list()] as (Resource & { id: string })[];
  const provenance = messageProvenance(scope, {
    header: message.header,
    trigger,
    occurred: eventTime.dateTime,
    receivedAt: context.receivedAt,
    sendingFacility: header.sendingFacility,
    targets: mapped,
  });

  const event: Hl7Event = {
    kind: eventKind(trigger, patientClass, person.died || dischargeSaysDied),
    trigger,
    messageType,
    controlId: message.header.controlId,
    eventTime: eventInstant,
    messageTime: times.messageTime?.instant ?? eventInstant,
    patientKey: person.patientKey,
    patientId: patient.id,
    ...(visitKey && isVisitTrigger(trigger) ? { visitKey, encounterId } : {}),
    ...(visitKey && messageType === 'MDM' ? { visitKey, encounterId } : {}),
    patientDeceased: person.died || dischargeSaysDied,
    ...(merge ? { merge } : {}),
    ...(document ? { documentId: document.id } : {}),
  };
  return { event, resources: [...mapped, provenance], issues: scope.issues.items, cleared, visit };
}

function mergeInstruction(scope: MapScope, message: ParsedHl7, survivor: PatientMapping): MergeInstruction | undefined {
  const mrg = message.segment('MRG');
  if (!mrg) {
    scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.MISSING_SEGMENT, missing('MRG'), 'A40 has no MRG segment');
    return undefined;
  }
  const mergedKey = mapMrg(scope, mrg);
  if (!mergedKey) return undefined;
  if (mergedKey === survivor.patientKey) {
    scope.issues.error(Hl7ErrorCode.UNKNOWN_KEY_IDENTIFIER, IssueReason.REQUIRED_FIELD_MISSING, at(mrg, 1), 'MRG-1 names the same patient as PID-3; nothing to merge');
    return undefined;
  }
  return {
    mergedPatientKey: mergedKey,
    survivorPatientKey: survivor.patientKey,
    mergedPatientId: idFor(scope, 'Patient', mergedKey),
    survivorPatientId: survivor.patient.id,
  };
}
