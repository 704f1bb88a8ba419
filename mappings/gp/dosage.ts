import type { Dosage, DosageDoseAndRate } from '@medplum/fhirtypes';
import type { GpScope } from './context';
import type { Stu3Dosage } from './stu3';
import { r4CodeableConcept, r4CodeableConcepts } from './terminology';

/**
 * STU3 Dosage → R4 Dosage: dose[x] and rate[x] move from Dosage into `doseAndRate[0]`
 * (doseSimpleQuantity/rateSimpleQuantity become doseQuantity/rateQuantity); everything else keeps
 * its name. GP Connect sends the dosage as `text` (mandatory) with structured parts optional.
 */
export function mapDosage(scope: GpScope, d: Stu3Dosage, expression: string): Dosage {
  const dose = d.doseRange ? { doseRange: d.doseRange } : (d.doseQuantity ?? d.doseSimpleQuantity) ? { doseQuantity: d.doseQuantity ?? d.doseSimpleQuantity } : {};
  const rateQuantity = d.rateQuantity ?? d.rateSimpleQuantity;
  const rate = d.rateRatio ? { rateRatio: d.rateRatio } : d.rateRange ? { rateRange: d.rateRange } : rateQuantity ? { rateQuantity } : {};
  const doseAndRate: DosageDoseAndRate[] = Object.keys(dose).length || Object.keys(rate).length ? [{ ...dose, ...rate }] : [];
  if (!d.text) scope.issues.information('required', `${expression}.text`, 'Dosage without text (GP Connect requires it)');
  return {
    ...(d.extension?.length ? { extension: d.extension } : {}),
    ...(d.sequence !== undefined ? { sequence: d.sequence } : {}),
    ...(d.text ? { text: d.text } : {}),
    ...(d.additionalInstruction?.length ? { additionalInstruction: r4CodeableConcepts(d.additionalInstruction) } : {}),
    ...(d.patientInstruction ? { patientInstruction: d.patientInstruction } : {}),
    ...(d.timing ? { timing: d.timing } : {}),
    ...(d.asNeededBoolean !== undefined ? { asNeededBoolean: d.asNeededBoolean } : {}),
    ...(d.asNeededCodeableConcept ? { asNeededCodeableConcept: r4CodeableConcept(d.asNeededCodeableConcept) } : {}),
    ...(d.site ? { site: r4CodeableConcept(d.site) } : {}),
    ...(d.route ? { route: r4CodeableConcept(d.route) } : {}),
    ...(d.method ? { method: r4CodeableConcept(d.method) } : {}),
    ...(doseAndRate.length ? { doseAndRate } : {}),
    ...(d.maxDosePerPeriod ? { maxDosePerPeriod: d.maxDosePerPeriod } : {}),
    ...(d.maxDosePerAdministration ? { maxDosePerAdministration: d.maxDosePerAdministration } : {}),
    ...(d.maxDosePerLifetime ? { maxDosePerLifetime: d.maxDosePerLifetime } : {}),
  };
}
