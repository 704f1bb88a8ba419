import type { DocumentReference } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, mapReference, mapReferences, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import type { Stu3DocumentReference } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts } from './terminology';

const DOCUMENT_STATUS = { current: 'current', superseded: 'superseded', 'entered-in-error': 'entered-in-error' } as const;
const DOC_STATUS = ['preliminary', 'final', 'amended', 'entered-in-error'] as const;

/**
 * CareConnect-GPC-DocumentReference-1 → DocumentReference. class → category; indexed → date;
 * created (gone in R4) → content.attachment.creation; context.encounter (0..1) → (0..*).
 * The attachment is a URL to the GP system's Documents API: we keep the link, not the bytes.
 */
export function mapDocumentReference(scope: GpScope, d: Stu3DocumentReference, at: string, id: string): DocumentReference & { id: string } {
  reportUnmappedExtensions(scope, d.extension, [], at);
  const status = d.status ? DOCUMENT_STATUS[d.status as keyof typeof DOCUMENT_STATUS] : undefined;
  if (!status) scope.issues.warning(d.status ? 'code-invalid' : 'required', `${at}.status`, 'status missing or not in the STU3 value set; recorded as current');
  if (!d.content?.length) scope.issues.error('required', `${at}.content`, 'DocumentReference without content');
  const encounter = mapReference(scope, d.context?.encounter, `${at}.context.encounter`, ['Encounter']);
  const context = d.context
    ? compact({ encounter: encounter ? [encounter] : undefined, period: d.context.period, facilityType: r4CodeableConcept(d.context.facilityType), practiceSetting: r4CodeableConcept(d.context.practiceSetting) })
    : undefined;
  return compact<DocumentReference & { id: string }>({
    resourceType: 'DocumentReference',
    id,
    meta: metaFor(scope, d, sensitivitiesOf([d.type, d.class])),
    masterIdentifier: d.masterIdentifier,
    identifier: d.identifier,
    status: status ?? 'current',
    docStatus: (DOC_STATUS as readonly string[]).includes(d.docStatus ?? '') ? (d.docStatus as (typeof DOC_STATUS)[number]) : undefined,
    type: r4CodeableConcept(d.type),
    category: d.class ? [r4CodeableConcept(d.class)] : undefined,
    subject: subjectOf(scope, d.subject, `${at}.subject`),
    date: d.indexed,
    author: mapReferences(scope, d.author, `${at}.author`, ['Practitioner', 'PractitionerRole', 'Organization', 'Device', 'Patient', 'RelatedPerson']),
    custodian: mapReference(scope, d.custodian, `${at}.custodian`, ['Organization']),
    description: d.description,
    securityLabel: r4CodeableConcepts(d.securityLabel),
    content: (d.content ?? []).map((c) => compact({ attachment: d.created && !c.attachment.creation ? { ...c.attachment, creation: d.created } : c.attachment, format: c.format })),
    context: context && Object.keys(context).length ? context : undefined,
  });
}
