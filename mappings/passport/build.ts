import type { Bundle, Organization, Reference } from '@medplum/fhirtypes';
import { assembleDocument, documentIdentifier } from './document';
import { dischargeSections, type DischargeInput } from './discharge-sections';
import { RecordIndex } from './record-text';
import { transferSections, type TransferInput } from './transfer-sections';
import { PassportKind } from './view';

/**
 * The two red bag passports as unsigned FHIR documents (gateway/passport signs and stores them).
 * Pure: the same record, form and time give the same document, byte for byte once canonicalised.
 */

export interface IssueFields {
  readonly passportId: string;
  readonly version: number;
  readonly redBagId: string;
  /** The organisation the document is issued for (the care home; the hospital for a discharge passport). */
  readonly issuedBy: Reference<Organization>;
  /** Where the entries' fullUrls live: `{publicBaseUrl}/fhir`. */
  readonly fhirBase: string;
  /** Why this version replaces the one before, when it does. */
  readonly reason?: string;
}

export function buildTransferPassport(input: TransferInput & IssueFields): Bundle {
  return assembleDocument({
    kind: PassportKind.TRANSFER,
    passportId: input.passportId,
    version: input.version,
    redBagId: input.redBagId,
    issuedAt: input.issuedAt,
    issuedBy: input.issuedBy,
    subject: input.subject,
    sections: transferSections(input),
    fhirBase: input.fhirBase,
    index: input.index,
    ...(input.reason ? { reason: input.reason } : {}),
  });
}

export function buildDischargePassport(input: DischargeInput & IssueFields): Bundle {
  const { sections, carried } = dischargeSections(input);
  const transferId = input.transferPassport?.identifier?.value;
  return assembleDocument({
    kind: PassportKind.DISCHARGE,
    passportId: input.passportId,
    version: input.version,
    redBagId: input.redBagId,
    issuedAt: input.issuedAt,
    issuedBy: input.issuedBy,
    subject: input.subject,
    encounter: input.encounter,
    sections,
    fhirBase: input.fhirBase,
    index: new RecordIndex([...input.index.resources, ...carried.filter((c) => !input.index.get({ reference: `${c.resourceType}/${c.id ?? ''}` }))]),
    ...(transferId ? { follows: transferId } : {}),
    ...(input.reason ? { reason: input.reason } : {}),
  });
}

export { documentIdentifier };
