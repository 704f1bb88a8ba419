import type { Organization, Reference } from '@medplum/fhirtypes';
import type { Hl7Segment, ParsedHl7 } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { readTimestamp, type ValidTimestamp } from '../datatypes/ts-field';
import { organisationFromCode } from '../datatypes/xon';
import { at, Hl7ErrorCode, IssueReason } from '../issues';
import type { ResourceSet } from '../resource-set';

/**
 * MSH message header (v2.5.1 §2.14.9). The adapter has used its fields (routing, ACK mode,
 * character set); the mapping takes the sending facility (MSH-4: an ODS code from NHS senders →
 * Organization) and the message date/time (MSH-7).
 */
export interface HeaderMapping {
  readonly sendingFacility: Reference<Organization> | undefined;
  readonly messageTime: ValidTimestamp | undefined;
}

export function mapMsh(scope: MapScope, message: ParsedHl7, resources: ResourceSet): HeaderMapping {
  const msh: Hl7Segment | undefined = message.segment('MSH');
  const sendingFacility = organisationFromCode(scope, message.header.sendingFacility.trim(), '', resources);
  const messageTime = msh ? readTimestamp(scope, msh, 7, 'MSH-7 message date/time') : undefined;
  if (msh && msh.text(7).trim() === '') {
    scope.issues.warning(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, at(msh, 7), 'MSH-7 message date/time is empty');
  }
  return { sendingFacility, messageTime };
}
