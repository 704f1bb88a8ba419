import type { ServiceRequest } from '@medplum/fhirtypes';

/**
 * STU3 ReferralRequest / ProcedureRequest status → R4 ServiceRequest status: suspended became
 * on-hold and cancelled became revoked; the others keep their code.
 */
export const SERVICE_REQUEST_STATUS: Readonly<Record<string, ServiceRequest['status']>> = {
  draft: 'draft',
  active: 'active',
  suspended: 'on-hold',
  cancelled: 'revoked',
  completed: 'completed',
  'entered-in-error': 'entered-in-error',
  unknown: 'unknown',
};

/** STU3 intents that R4 kept (R4 adds directive, reflex-order, filler-order, option). */
export const SERVICE_REQUEST_INTENT: Readonly<Record<string, ServiceRequest['intent']>> = {
  proposal: 'proposal',
  plan: 'plan',
  order: 'order',
  'original-order': 'original-order',
  'reflex-order': 'reflex-order',
  'filler-order': 'filler-order',
  'instance-order': 'instance-order',
  option: 'option',
};

export const SERVICE_REQUEST_PRIORITY: Readonly<Record<string, ServiceRequest['priority']>> = { routine: 'routine', urgent: 'urgent', asap: 'asap', stat: 'stat' };
