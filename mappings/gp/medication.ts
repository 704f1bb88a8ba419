import type { Medication } from '@medplum/fhirtypes';
import { compact, mapReference, metaFor, reportUnmappedExtensions, type GpScope } from './context';
import type { Stu3Medication } from './stu3';
import { r4CodeableConcept } from './terminology';

const MEDICATION_STATUS = { active: 'active', inactive: 'inactive', 'entered-in-error': 'entered-in-error' } as const;

/**
 * CareConnect-GPC-Medication-1 → Medication. STU3 isBrand and package are gone in R4 (dm+d codes
 * say brand and pack themselves); ingredient.item[x] and amount keep their names; package.batch
 * becomes R4 batch.
 */
export function mapMedication(scope: GpScope, m: Stu3Medication, at: string, id: string): Medication & { id: string } {
  reportUnmappedExtensions(scope, m.extension, [], at);
  if (m.isBrand !== undefined) scope.issues.information('informational', `${at}.isBrand`, 'isBrand has no R4 element (the dm+d code says whether it is a brand); left out');
  const batch = m.package?.batch?.[0];
  return compact<Medication & { id: string }>({
    resourceType: 'Medication',
    id,
    meta: metaFor(scope, m, []),
    identifier: m.identifier,
    code: r4CodeableConcept(m.code),
    status: m.status ? MEDICATION_STATUS[m.status as keyof typeof MEDICATION_STATUS] : undefined,
    form: r4CodeableConcept(m.form),
    ingredient: m.ingredient?.map((i, n) =>
      compact({
        itemCodeableConcept: r4CodeableConcept(i.itemCodeableConcept),
        itemReference: mapReference(scope, i.itemReference, `${at}.ingredient[${String(n)}].itemReference`, ['Medication', 'Substance']),
        isActive: i.isActive,
        strength: i.amount,
      }),
    ),
    batch: batch ? compact({ lotNumber: batch.lotNumber, expirationDate: batch.expirationDate }) : undefined,
  });
}
