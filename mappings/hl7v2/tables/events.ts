/**
 * The trigger events CareBridge maps (HL7 v2.5.1 chapter 3 ADT, chapter 9 MDM), what each one is
 * in the domain (the outbox event kind) and what it does to a visit.
 */

export const Hl7EventKind = {
  ADMISSION: 'admission',
  ED_ATTENDANCE: 'ed-attendance',
  REGISTRATION: 'registration',
  TRANSFER: 'transfer',
  DISCHARGE: 'discharge',
  /** A03 whose patient died (PID-30 'Y', PID-29 present or discharge method 4). */
  DEATH: 'death',
  PRE_ADMISSION: 'pre-admission',
  PENDING_ADMISSION: 'pending-admission',
  PENDING_DISCHARGE: 'pending-discharge',
  CHANGE_TO_INPATIENT: 'change-to-inpatient',
  CHANGE_TO_OUTPATIENT: 'change-to-outpatient',
  UPDATE: 'update',
  CANCEL_ADMISSION: 'cancel-admission',
  CANCEL_TRANSFER: 'cancel-transfer',
  CANCEL_DISCHARGE: 'cancel-discharge',
  CANCEL_PENDING_ADMISSION: 'cancel-pending-admission',
  CANCEL_PENDING_DISCHARGE: 'cancel-pending-discharge',
  PERSON_ADDED: 'person-added',
  PERSON_UPDATED: 'person-updated',
  MERGE: 'merge',
  DOCUMENT: 'document',
} as const;
export type Hl7EventKind = (typeof Hl7EventKind)[keyof typeof Hl7EventKind];

/** What an event does to the visit it names (see visit-fold.ts). */
export const VisitEffect = {
  /** No visit: person-level events (A28, A31, A40) and documents. */
  NONE: 'none',
  /** Planned visit: A05 pre-admit, A14 pending admit. */
  PLAN: 'plan',
  /** The visit starts: A01, A04, A06; A07 keeps it going as an outpatient visit. */
  START: 'start',
  TRANSFER: 'transfer',
  PENDING_DISCHARGE: 'pending-discharge',
  FINISH: 'finish',
  /** Visit details only (A08): no status change. */
  UPDATE: 'update',
  CANCEL_START: 'cancel-start',
  CANCEL_TRANSFER: 'cancel-transfer',
  CANCEL_FINISH: 'cancel-finish',
  CANCEL_PLAN: 'cancel-plan',
  CANCEL_PENDING_DISCHARGE: 'cancel-pending-discharge',
} as const;
export type VisitEffect = (typeof VisitEffect)[keyof typeof VisitEffect];

export interface TriggerDefinition {
  readonly messageType: 'ADT' | 'MDM';
  readonly kind: Hl7EventKind;
  readonly visit: VisitEffect;
  readonly description: string;
}

export const TRIGGERS = {
  A01: { messageType: 'ADT', kind: Hl7EventKind.ADMISSION, visit: VisitEffect.START, description: 'Admit/visit notification' },
  A02: { messageType: 'ADT', kind: Hl7EventKind.TRANSFER, visit: VisitEffect.TRANSFER, description: 'Transfer a patient' },
  A03: { messageType: 'ADT', kind: Hl7EventKind.DISCHARGE, visit: VisitEffect.FINISH, description: 'Discharge/end visit' },
  A04: { messageType: 'ADT', kind: Hl7EventKind.REGISTRATION, visit: VisitEffect.START, description: 'Register a patient' },
  A05: { messageType: 'ADT', kind: Hl7EventKind.PRE_ADMISSION, visit: VisitEffect.PLAN, description: 'Pre-admit a patient' },
  A06: { messageType: 'ADT', kind: Hl7EventKind.CHANGE_TO_INPATIENT, visit: VisitEffect.START, description: 'Change an outpatient to an inpatient' },
  A07: { messageType: 'ADT', kind: Hl7EventKind.CHANGE_TO_OUTPATIENT, visit: VisitEffect.START, description: 'Change an inpatient to an outpatient' },
  A08: { messageType: 'ADT', kind: Hl7EventKind.UPDATE, visit: VisitEffect.UPDATE, description: 'Update patient information' },
  A11: { messageType: 'ADT', kind: Hl7EventKind.CANCEL_ADMISSION, visit: VisitEffect.CANCEL_START, description: 'Cancel admit/visit notification' },
  A12: { messageType: 'ADT', kind: Hl7EventKind.CANCEL_TRANSFER, visit: VisitEffect.CANCEL_TRANSFER, description: 'Cancel transfer' },
  A13: { messageType: 'ADT', kind: Hl7EventKind.CANCEL_DISCHARGE, visit: VisitEffect.CANCEL_FINISH, description: 'Cancel discharge/end visit' },
  A14: { messageType: 'ADT', kind: Hl7EventKind.PENDING_ADMISSION, visit: VisitEffect.PLAN, description: 'Pending admit' },
  A16: { messageType: 'ADT', kind: Hl7EventKind.PENDING_DISCHARGE, visit: VisitEffect.PENDING_DISCHARGE, description: 'Pending discharge' },
  A25: { messageType: 'ADT', kind: Hl7EventKind.CANCEL_PENDING_DISCHARGE, visit: VisitEffect.CANCEL_PENDING_DISCHARGE, description: 'Cancel pending discharge' },
  A27: { messageType: 'ADT', kind: Hl7EventKind.CANCEL_PENDING_ADMISSION, visit: VisitEffect.CANCEL_PLAN, description: 'Cancel pending admit' },
  A28: { messageType: 'ADT', kind: Hl7EventKind.PERSON_ADDED, visit: VisitEffect.NONE, description: 'Add person information' },
  A31: { messageType: 'ADT', kind: Hl7EventKind.PERSON_UPDATED, visit: VisitEffect.NONE, description: 'Update person information' },
  A40: { messageType: 'ADT', kind: Hl7EventKind.MERGE, visit: VisitEffect.NONE, description: 'Merge patient - patient identifier list' },
  T02: { messageType: 'MDM', kind: Hl7EventKind.DOCUMENT, visit: VisitEffect.NONE, description: 'Original document notification and content' },
  T04: { messageType: 'MDM', kind: Hl7EventKind.DOCUMENT, visit: VisitEffect.NONE, description: 'Document status change notification and content' },
} as const satisfies Record<string, TriggerDefinition>;

export type Hl7Trigger = keyof typeof TRIGGERS;

export function isSupportedTrigger(trigger: string): trigger is Hl7Trigger {
  return Object.hasOwn(TRIGGERS, trigger);
}

/** The triggers that name a visit (PV1-19 required). */
export type VisitTrigger = { [K in Hl7Trigger]: (typeof TRIGGERS)[K]['visit'] extends 'none' ? never : K }[Hl7Trigger];

export function isVisitTrigger(trigger: Hl7Trigger): trigger is VisitTrigger {
  return TRIGGERS[trigger].visit !== VisitEffect.NONE;
}

export const HL7_EVENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0003';
