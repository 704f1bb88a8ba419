import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import { localSystem, type MapScope } from '../context';
import type { Hl7IssueLocation } from '../issues';
import type { CodeSystemTable } from './uk-core-codes';

/**
 * A code translated through a table when the table knows it; otherwise kept as the sender's own
 * code (under `${source}/code/<field>`) with a 103 warning, so nothing is dropped.
 */
export function translateCode(scope: MapScope, table: CodeSystemTable, code: string, text: string, field: string, location: Hl7IssueLocation, label: string): CodeableConcept {
  const display = table.concepts[code];
  if (display !== undefined) return { coding: [{ system: table.system, code, display }] };
  scope.issues.unknownCode(location, label);
  return senderCode(scope, field, code, text);
}

/** The sender's own code, as sent, with its text if any. */
export function senderCode(scope: MapScope, field: string, code: string, text: string): CodeableConcept {
  const coding: Coding = { system: localSystem.code(scope.source, field), code };
  if (text) coding.display = text;
  return { coding: [coding], ...(text ? { text } : {}) };
}
