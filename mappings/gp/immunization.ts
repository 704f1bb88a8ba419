import type { Extension, Immunization } from '@medplum/fhirtypes';
import { sensitivitiesOf } from '../security/sensitive-codes';
import { compact, extensionOf, mapReference, metaFor, reportUnmappedExtensions, subjectOf, type GpScope } from './context';
import { STU3_EXT, UKCORE_EXT } from './extensions';
import type { Stu3Immunization } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts } from './terminology';

/**
 * CareConnect-GPC-Immunization-1 → Immunization. The STU3 → R4 changes are many: notGiven → status
 * not-done; date → occurrenceDateTime; practitioner (role, actor) → performer (function, actor);
 * explanation.reason → reasonCode, explanation.reasonNotGiven → statusReason; vaccinationProtocol
 * → protocolApplied (doseSequence → doseNumberPositiveInt, seriesDoses → seriesDosesPositiveInt);
 * the date-recorded extension → recorded; the vaccination procedure → its UK Core extension.
 */
export function mapImmunization(scope: GpScope, i: Stu3Immunization, at: string, id: string): Immunization & { id: string } {
  reportUnmappedExtensions(scope, i.extension, [STU3_EXT.DATE_RECORDED, STU3_EXT.VACCINATION_PROCEDURE, STU3_EXT.PARENT_PRESENT], at);
  if (i.status && i.status !== 'completed' && i.status !== 'entered-in-error') scope.issues.warning('code-invalid', `${at}.status`, 'status not in the STU3 value set; recorded as completed');
  const status: Immunization['status'] = i.status === 'entered-in-error' ? 'entered-in-error' : i.notGiven ? 'not-done' : 'completed';
  if (!i.date) scope.issues.error('required', `${at}.date`, 'Immunization without a date (R4 occurrence[x] is required)');
  const procedure = extensionOf(i.extension, STU3_EXT.VACCINATION_PROCEDURE)?.valueCodeableConcept;
  const extension: Extension[] = procedure ? [{ url: UKCORE_EXT.VACCINATION_PROCEDURE, valueCodeableConcept: r4CodeableConcept(procedure) }] : [];
  if (extensionOf(i.extension, STU3_EXT.PARENT_PRESENT)) scope.issues.information('informational', `${at}.extension`, 'Parent-present extension has no R4 or UK Core element; left out');
  return compact<Immunization & { id: string }>({
    resourceType: 'Immunization',
    id,
    meta: metaFor(scope, i, sensitivitiesOf([i.vaccineCode, ...(i.explanation?.reason ?? [])])),
    extension: extension.length ? extension : undefined,
    identifier: i.identifier,
    status,
    statusReason: i.notGiven ? r4CodeableConcept(i.explanation?.reasonNotGiven?.[0]) : undefined,
    vaccineCode: r4CodeableConcept(i.vaccineCode) ?? { text: 'Vaccine not recorded' },
    patient: subjectOf(scope, i.patient, `${at}.patient`),
    encounter: mapReference(scope, i.encounter, `${at}.encounter`, ['Encounter']),
    occurrenceDateTime: i.date ?? '',
    recorded: extensionOf(i.extension, STU3_EXT.DATE_RECORDED)?.valueDateTime,
    primarySource: i.primarySource,
    reportOrigin: r4CodeableConcept(i.reportOrigin),
    location: mapReference(scope, i.location, `${at}.location`, ['Location']),
    manufacturer: mapReference(scope, i.manufacturer, `${at}.manufacturer`, ['Organization']),
    lotNumber: i.lotNumber,
    expirationDate: i.expirationDate,
    site: r4CodeableConcept(i.site),
    route: r4CodeableConcept(i.route),
    doseQuantity: i.doseQuantity,
    performer: i.practitioner
      ?.map((p, n) => ({ function: r4CodeableConcept(p.role), actor: mapReference(scope, p.actor, `${at}.practitioner[${String(n)}].actor`, ['Practitioner', 'PractitionerRole', 'Organization']) }))
      .filter((p) => p.actor !== undefined)
      .map((p) => compact({ function: p.function, actor: p.actor as NonNullable<typeof p.actor> })),
    note: i.note,
    reasonCode: i.notGiven ? undefined : r4CodeableConcepts(i.explanation?.reason),
    protocolApplied: i.vaccinationProtocol?.map((v, n) => {
      if (v.doseStatus) scope.issues.information('informational', `${at}.vaccinationProtocol[${String(n)}].doseStatus`, 'doseStatus has no R4 element; left out');
      return compact({
        series: v.series ?? v.description,
        authority: mapReference(scope, v.authority, `${at}.vaccinationProtocol[${String(n)}].authority`, ['Organization']),
        targetDisease: r4CodeableConcepts(v.targetDisease),
        // R4 requires a dose number; GP Connect may not send one, and we do not invent it.
        ...(v.doseSequence !== undefined ? { doseNumberPositiveInt: v.doseSequence } : { doseNumberString: 'not recorded' }),
        seriesDosesPositiveInt: v.seriesDoses,
      });
    }),
  });
}
