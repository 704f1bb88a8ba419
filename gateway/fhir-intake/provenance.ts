import type { Provenance } from '@medplum/fhirtypes';
import { resourceId } from '../../mappings/ids';
import type { WrittenResource } from '../store/resource-writer';

/** The identifier system naming sending systems by their source URI (Provenance.agent.who). */
export const SOURCE_SYSTEM_IDENTIFIER = 'https://carebridge.nhs.uk/Id/source-system';

/**
 * One Provenance per applied Bundle: which system sent it (agent), which Bundle (entity, by its
 * identifier or the inbox's key for it), when it was received, and exactly the versions it
 * changed. Nothing changed (the same Bundle again) means no Provenance.
 */
export function bundleProvenance(input: {
  sourceUri: string;
  system: string;
  bundleKey: string;
  bundleType: string;
  receivedAt: string;
  changed: readonly WrittenResource[];
}): Provenance & { id: string } {
  return {
    resourceType: 'Provenance',
    id: resourceId('Provenance', input.sourceUri, `bundle|${input.bundleKey}`),
    meta: { source: input.sourceUri },
    target: input.changed.map((c) => ({ reference: `${c.resourceType}/${c.id}/_history/${c.versionId}` })),
    recorded: input.receivedAt,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }] },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }] },
        who: { identifier: { system: SOURCE_SYSTEM_IDENTIFIER, value: input.sourceUri }, display: input.system },
      },
    ],
    entity: [{ role: 'source', what: { identifier: { system: `${input.sourceUri}/bundle`, value: input.bundleKey }, display: `FHIR ${input.bundleType} Bundle` } }],
  };
}
