import type { Practitioner } from '@medplum/fhirtypes';
import { compact, metaFor, reportUnmappedExtensions, type GpScope } from './context';
import type { Stu3Practitioner } from './stu3';
import { r4CodeableConcepts } from './terminology';

/** CareConnect-GPC-Practitioner-1 → Practitioner. STU3 communication (CodeableConcept[]) is the same in R4. */
export function mapPractitioner(scope: GpScope, p: Stu3Practitioner, at: string, id: string): Practitioner & { id: string } {
  reportUnmappedExtensions(scope, p.extension, [], at);
  return compact<Practitioner & { id: string }>({
    resourceType: 'Practitioner',
    id,
    meta: metaFor(scope, p, []),
    identifier: p.identifier,
    active: p.active,
    name: p.name,
    telecom: p.telecom,
    address: p.address,
    gender: p.gender as Practitioner['gender'],
    communication: r4CodeableConcepts(p.communication),
  });
}
