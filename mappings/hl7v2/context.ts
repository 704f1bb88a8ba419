import type { Meta, Reference, Resource } from '@medplum/fhirtypes';
import { resourceId } from '../ids';
import { IssueList } from './issues';
import { DEFAULT_SENDER_TIME_ZONE } from './datatypes/ts';

/** What the gateway tells the mapping about the sender and the arrival; nothing here is read from a clock. */
export interface Hl7MappingContext {
  /** The sender's system URI (one per interface), used as meta.source and as the base of local identifier systems. */
  readonly source: string;
  /** IANA zone of timestamps sent without an offset; default Europe/London. */
  readonly senderTimeZone?: string;
  /** The sender traces every patient against PDS: its NHS numbers count as verified unless PID-32 says otherwise. */
  readonly nhsNumberVerifiedBySender?: boolean;
  /** When the gateway received the message (ISO instant): Provenance.recorded. */
  readonly receivedAt: string;
}

/** Per-mapping state the segment mappers share. */
export interface MapScope {
  readonly source: string;
  readonly timeZone: string;
  readonly nhsNumberVerifiedBySender: boolean | undefined;
  readonly issues: IssueList;
}

export function createScope(context: Hl7MappingContext): MapScope {
  return {
    source: context.source,
    timeZone: context.senderTimeZone ?? DEFAULT_SENDER_TIME_ZONE,
    nhsNumberVerifiedBySender: context.nhsNumberVerifiedBySender,
    issues: new IssueList(),
  };
}

/** Identifier and code systems local to one sender, all under its source URI. */
export const localSystem = {
  mrn: (source: string): string => `${source}/mrn`,
  patientIdentifier: (source: string, type: string): string => `${source}/patient-identifier/${encodeURIComponent(type.toLowerCase())}`,
  visitNumber: (source: string): string => `${source}/visit-number`,
  location: (source: string): string => `${source}/location`,
  staff: (source: string): string => `${source}/staff`,
  organization: (source: string): string => `${source}/organization`,
  document: (source: string): string => `${source}/document`,
  messageControlId: (source: string): string => `${source}/message-control-id`,
  /** The sender's own codes for an HL7 field whose value we could not (or need not) translate. */
  code: (source: string, name: string): string => `${source}/code/${encodeURIComponent(name)}`,
} as const;

export function meta(scope: MapScope): Meta {
  return { source: scope.source };
}

/** A deterministic id from the resource type, the sender and a key the sender's identifiers give. */
export function idFor(scope: MapScope, resourceType: Resource['resourceType'], key: string): string {
  return resourceId(resourceType, scope.source, key);
}

export function referenceTo<T extends Resource>(resource: T & { id: string }): Reference<T> {
  return { reference: `${resource.resourceType}/${resource.id}` };
}
