import type { Flag } from '@medplum/fhirtypes';
import type { SourceRow } from '../../adapters/social-care/tables';
import { Sensitivity } from '../security/labels';
import { ALERT_TYPE, type AlertType } from './codes';
import { councilReference, IssueCode, idFor, meta, patientReference, recordIdentifier, type Retirement, type SocialCareContext } from './context';
import { code, concept, flag, normaliseCode, period, text } from './fields';
import { endedBy, readerFor, type RowMapping } from './row-result';

/**
 * alerts.csv → Flag (warnings and hazards) with security labels (specs/access-and-consent.md,
 * "Sensitive information"): safeguarding, domestic abuse and key-safe alerts are very restricted
 * whatever SENSITIVE says; SENSITIVE=Y makes any other alert restricted. An unknown type that
 * reads like one of those three is treated as it (fail closed) and reported.
 */
const FLAG_CATEGORY = 'http://terminology.hl7.org/CodeSystem/flag-category';

export const ALERT_CATEGORY: Readonly<Record<AlertType, { code: string; display: string }>> = {
  SAFEGUARDING: { code: 'safety', display: 'Safety' },
  LONE_WORKING_RISK: { code: 'safety', display: 'Safety' },
  DOG_ON_PREMISES: { code: 'safety', display: 'Safety' },
  KEY_SAFE: { code: 'admin', display: 'Administrative' },
  FALLS_RISK: { code: 'safety', display: 'Safety' },
  DNACPR_IN_PLACE: { code: 'advance-directive', display: 'Advance Directive' },
  DOMESTIC_ABUSE: { code: 'safety', display: 'Safety' },
  FIRE_RISK: { code: 'safety', display: 'Safety' },
  HOARDING: { code: 'behavioral', display: 'Behavioral' },
  COMMUNICATION_NEEDS: { code: 'admin', display: 'Administrative' },
};

/** The sensitivity an alert type carries whatever the row's SENSITIVE flag says. */
export const ALERT_SENSITIVITY: Readonly<Partial<Record<AlertType, Sensitivity>>> = {
  SAFEGUARDING: Sensitivity.SAFEGUARDING,
  DOMESTIC_ABUSE: Sensitivity.DOMESTIC_ABUSE,
  KEY_SAFE: Sensitivity.KEY_SAFE,
};

/** Local spellings of the three always-sensitive kinds ('KEYSAFE', 'SAFEGUARDING_CONCERN', 'DV'). */
export function sensitivityOfUnknownType(value: string): Sensitivity | undefined {
  const c = normaliseCode(value).replace(/_/g, '');
  if (c.includes('KEYSAFE') || c.includes('KEYCODE')) return Sensitivity.KEY_SAFE;
  if (c.includes('SAFEGUARD') || c.includes('ADULTPROTECTION')) return Sensitivity.SAFEGUARDING;
  if (c.includes('DOMESTIC') || c === 'DV' || c === 'DA') return Sensitivity.DOMESTIC_ABUSE;
  return undefined;
}

export function mapAlertRow(context: SocialCareContext, row: SourceRow, retirement?: Retirement): RowMapping {
  const r = readerFor(context, row, 'ALERT_ID');
  const id = text(r, 'ALERT_ID') as string;
  const personId = text(r, 'PERSON_ID') as string;
  const type = code(r, 'ALERT_TYPE', ALERT_TYPE);
  const description = text(r, 'DESCRIPTION');
  const sensitiveFlag = flag(r, 'SENSITIVE');
  const when = endedBy(period(r, 'START_DATE', 'END_DATE'), retirement);
  let sensitivity: Sensitivity | undefined;
  if (type?.known) sensitivity = ALERT_SENSITIVITY[type.known];
  else if (type) {
    sensitivity = sensitivityOfUnknownType(type.code);
    if (sensitivity) r.issues.warning(IssueCode.SENSITIVE_RAISED, 'ALERT_TYPE', `ALERT_TYPE is not in the list but reads as ${sensitivity}; labelled very restricted`);
  }
  if (sensitivity && sensitiveFlag === false) r.issues.information(IssueCode.SENSITIVE_RAISED, 'SENSITIVE', `SENSITIVE is N but a ${sensitivity} alert is very restricted whatever the flag says`);
  const ended = when?.end !== undefined && when.end <= r.context.extractedAt.slice(0, 10);
  const category = type?.known ? ALERT_CATEGORY[type.known] : undefined;
  const alert: Flag & { id: string } = {
    resourceType: 'Flag',
    id: idFor(context, 'Flag', `alert|${id}`),
    meta: meta(context, sensitivity ? [sensitivity] : [], sensitiveFlag ? 'R' : 'N', retirement !== undefined),
    identifier: [recordIdentifier(context, 'alerts', id)],
    status: retirement || ended ? 'inactive' : 'active',
    ...(category ? { category: [{ coding: [{ system: FLAG_CATEGORY, ...category }] }] } : {}),
    code: { ...(concept(type) ?? {}), ...(description ? { text: description } : type ? {} : { text: 'Social care alert' }) },
    subject: patientReference(context, personId),
    ...(when ? { period: when } : {}),
    author: councilReference(context),
  };
  return { resources: [alert], issues: r.issues.items };
}
