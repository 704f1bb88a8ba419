import type { Organization, Provenance, Reference, Resource } from '@medplum/fhirtypes';
import type { Hl7Header } from '../../adapters/hl7v2/types';
import { idFor, localSystem, meta, type MapScope } from './context';
import { HL7_EVENT_TYPE_SYSTEM, TRIGGERS, type Hl7Trigger } from './tables/events';

/**
 * One Provenance per message: which message (sender + MSH-10) produced which resources, when it
 * happened and when CareBridge received it. The targets are unversioned references; the gateway
 * replaces them with the versions it wrote.
 */
export function messageProvenance(
  scope: MapScope,
  input: {
    header: Hl7Header;
    trigger: Hl7Trigger;
    occurred: string | undefined;
    receivedAt: string;
    sendingFacility: Reference<Organization> | undefined;
    targets: readonly (Resource & { id: string })[];
  },
): Provenance & { id: string } {
  const { header, trigger } = input;
  const application = header.sendingApplication.trim();
  return {
    resourceType: 'Provenance',
    id: idFor(scope, 'Provenance', `message|${header.controlId}`),
    meta: meta(scope),
    target: input.targets.map((r) => ({ reference: `${r.resourceType}/${r.id}` })),
    ...(input.occurred ? { occurredDateTime: input.occurred } : {}),
    recorded: input.receivedAt,
    activity: { coding: [{ system: HL7_EVENT_TYPE_SYSTEM, code: trigger, display: TRIGGERS[trigger].description }] },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }] },
        who: input.sendingFacility ?? { identifier: { system: `${scope.source}/application`, value: application || 'unknown' } },
      },
    ],
    entity: [
      {
        role: 'source',
        what: {
          identifier: { system: localSystem.messageControlId(scope.source), value: header.controlId },
          display: `HL7v2 ${header.messageCode}^${header.triggerEvent}`,
        },
      },
    ],
  };
}
