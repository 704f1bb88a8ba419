import type { Provenance } from '@medplum/fhirtypes';
import { councilReference, idFor, meta, type SocialCareContext } from './context';

/**
 * One Provenance per written batch of an import: the extract (by its manifest's sha256) and the
 * council that sent it, `recorded` at the extract's own time, so importing the same extract again
 * yields the same Provenance (and none at all when nothing changed). The gateway fills `target`
 * with the versions it actually wrote.
 */
export function extractProvenance(context: SocialCareContext, manifestSha256: string, batch: number): Provenance & { id: string } {
  return {
    resourceType: 'Provenance',
    id: idFor(context, 'Provenance', `extract|${manifestSha256}|${batch}`),
    meta: meta(context),
    target: [],
    recorded: context.extractedAt,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }] },
    agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }] }, who: councilReference(context) }],
    entity: [{ role: 'source', what: { identifier: { system: `${context.source}/extract`, value: manifestSha256 }, display: `Social care extract (${context.type}) of ${context.extractedAt}` } }],
  };
}
