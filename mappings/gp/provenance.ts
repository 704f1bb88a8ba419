import type { Organization, Provenance, Reference, Resource } from '@medplum/fhirtypes';
import { idFor } from './context';

/**
 * One Provenance per imported bundle: which practice's record, as of when, received when, and
 * (filled in by the gateway) which resource versions it wrote.
 */
export function bundleProvenance(input: {
  source: string;
  nhsNumber: string;
  asOf: string | undefined;
  receivedAt: string;
  practice: Reference<Organization>;
  bundleKey: string;
  targets: readonly (Resource & { id: string })[];
}): Provenance & { id: string } {
  return {
    resourceType: 'Provenance',
    id: idFor(input.source, 'Provenance', `gp-structured-record|${input.nhsNumber}|${input.bundleKey}`),
    meta: { source: input.source },
    target: input.targets.map((r) => ({ reference: `${r.resourceType}/${r.id}` })),
    ...(input.asOf ? { occurredDateTime: input.asOf } : {}),
    recorded: input.receivedAt,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }] },
    agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }] }, who: input.practice }],
    entity: [{ role: 'source', what: { display: 'GP Connect Access Record: Structured (GPConnect-StructuredRecord-Bundle-1)' } }],
  };
}
