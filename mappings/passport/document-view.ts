import type { Bundle, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../identity/nhs-number';
import { PASSPORT_ID_SYSTEM, PASSPORT_TITLE, SECTION_WITHHELD_EXTENSION, VERSION_NUMBER_EXTENSION } from './codes';
import { audienceOf, compositionOf, rowsOf } from './document';
import { formatDate, formatNhsNumber, personName } from './record-text';
import { PassportKind, type PassportView } from './view';

/**
 * A passport document as people read it: the Composition's sections and their rows, in order.
 * Works on any copy (the issued version or a reader's copy); the fingerprint is the signed
 * document's, computed by the caller (gateway/passport/signing.ts). Pure.
 */

export const WITHHELD_NOTICE =
  'Some information has been withheld from this copy because of who it was issued for. The sections marked say so; they do not say what. Ask the care home, the GP or the ward if you need it.';

export class NotAPassportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAPassportError';
  }
}

export function passportView(bundle: Bundle, fingerprint: string): PassportView {
  const composition = compositionOf(bundle);
  if (bundle.type !== 'document' || !composition) throw new NotAPassportError('not a FHIR document: a Bundle of type document with a Composition first');
  const kind = composition.type.coding?.find((c) => c.code === PassportKind.TRANSFER || c.code === PassportKind.DISCHARGE)?.code as PassportKind | undefined;
  if (!kind) throw new NotAPassportError('not a red bag passport (Composition.type)');
  const subject = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient' && `Patient/${e.resource.id ?? ''}` === composition.subject?.reference)?.resource as Patient | undefined;
  const nhs = subject?.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
  const personLine = [personName(subject?.name), subject?.birthDate ? `born ${formatDate(subject.birthDate)}` : '', nhs ? `NHS ${formatNhsNumber(nhs)}` : ''].filter(Boolean).join(' · ');
  const sections = (composition.section ?? []).map((s) => ({
    code: s.code?.coding?.[0]?.code ?? '',
    title: s.title ?? '',
    rows: rowsOf(s).map((r) => ({ label: r.label, value: r.value, ...(r.source ? { source: r.source } : {}) })),
    emptyText: s.emptyReason?.text ?? 'Nothing recorded.',
    withheld: s.extension?.some((e) => e.url === SECTION_WITHHELD_EXTENSION && e.valueBoolean === true) ?? false,
  }));
  const audience = audienceOf(composition);
  const anyWithheld = sections.some((s) => s.withheld);
  return {
    kind,
    title: composition.title || PASSPORT_TITLE[kind],
    personLine,
    passportId: composition.identifier?.system === PASSPORT_ID_SYSTEM ? (composition.identifier.value ?? '') : '',
    version: Number(composition.extension?.find((e) => e.url === VERSION_NUMBER_EXTENSION)?.valueString ?? '1'),
    issuedAt: composition.date,
    issuedBy: [composition.author.map((a) => a.display).filter(Boolean).join(', '), 'via CareBridge'].filter(Boolean).join(' '),
    ...(audience ? { audience } : {}),
    fingerprint: fingerprint.slice(0, 16),
    sections,
    ...(anyWithheld ? { withheldNotice: WITHHELD_NOTICE } : {}),
  };
}
