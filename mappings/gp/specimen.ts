import type { Specimen } from '@medplum/fhirtypes';
import { compact, mapReference, mapReferences, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import type { Stu3Specimen } from './stu3';
import { r4CodeableConcept } from './terminology';

const SPECIMEN_STATUS = { available: 'available', unavailable: 'unavailable', unsatisfactory: 'unsatisfactory', 'entered-in-error': 'entered-in-error' } as const;

/** CareConnect-GPC-Specimen-1 → Specimen (the same elements; request → ServiceRequest references). */
export function mapSpecimen(scope: GpScope, s: Stu3Specimen, at: string, id: string): Specimen & { id: string } {
  reportUnmappedExtensions(scope, s.extension, [], at);
  const c = s.collection;
  return compact<Specimen & { id: string }>({
    resourceType: 'Specimen',
    id,
    meta: metaFor(scope, s, []),
    identifier: s.identifier,
    accessionIdentifier: s.accessionIdentifier,
    status: s.status ? SPECIMEN_STATUS[s.status as keyof typeof SPECIMEN_STATUS] : undefined,
    type: r4CodeableConcept(s.type),
    subject: subjectOf(scope, s.subject, `${at}.subject`),
    receivedTime: s.receivedTime,
    parent: mapReferences(scope, s.parent, `${at}.parent`, ['Specimen']),
    request: mapReferences(scope, s.request, `${at}.request`, ['ServiceRequest']),
    collection: c
      ? compact({
          collector: mapReference(scope, c.collector, `${at}.collection.collector`, ['Practitioner', 'PractitionerRole']),
          collectedDateTime: c.collectedDateTime,
          collectedPeriod: c.collectedPeriod,
          quantity: c.quantity,
          method: r4CodeableConcept(c.method),
          bodySite: r4CodeableConcept(c.bodySite),
        })
      : undefined,
    note: s.note,
  });
}
