import { createHash } from 'node:crypto';
import type { Bundle, Composition, Resource } from '@medplum/fhirtypes';
import { resourceId } from '../ids';
import { AUDIENCE_EXTENSION, PASSPORT_DOCUMENT_SYSTEM, PASSPORT_SOURCE } from './codes';
import { compositionOf, documentIdentifier, documentSecurity, parseDocumentIdentifier, rowsOf, sectionOf, withRows } from './document';
import { refOf } from './record-text';

/**
 * A passport issued for its audience (specs/red-bag-passport.md: "Where a section must be withheld
 * from a reader, that reader gets a variant, signed on its own, that says what was withheld"). The
 * caller says which entries the reader may not see (gateway/passport: the access rules); the copy
 * leaves out those entries and every row read from them, marks their sections as withheld, and
 * names its audience. Nothing withheld: the issued document itself. The copy's identifier is the
 * version's plus a key of what was left out, so the same reader gets the same copy. Pure.
 */

export interface ReaderCopy {
  readonly bundle: Bundle;
  /** Section codes with something withheld (empty: the issued document itself). */
  readonly withheldSections: readonly string[];
  /** How many entries were left out. */
  readonly withheldEntries: number;
  /** The copy's key ('' for the issued document). */
  readonly copy: string;
}

export function readerCopy(issued: Bundle, mayNotSee: (resource: Resource) => boolean, audience: string): ReaderCopy {
  const composition = compositionOf(issued);
  if (!composition) throw new Error('a passport document starts with its Composition');
  const withheld = new Set<string>();
  for (const entry of issued.entry ?? []) {
    const r = entry.resource;
    if (r && r.resourceType !== 'Composition' && mayNotSee(r)) withheld.add(refOf(r));
  }
  if (withheld.size === 0) return { bundle: issued, withheldSections: [], withheldEntries: 0, copy: '' };
  const parsed = parseDocumentIdentifier(issued.identifier?.value ?? '');
  if (!parsed) throw new Error('a passport document carries its passport id and version in Bundle.identifier');
  const copy = createHash('sha256').update(`${audience}\n${[...withheld].sort().join('\n')}`).digest('hex').slice(0, 16);
  const key = documentIdentifier(parsed.passportId, parsed.version, copy);
  const withheldSections: string[] = [];
  const sections = (composition.section ?? []).map((section) => {
    const rows = rowsOf(section);
    const keptRows = rows.filter((r) => !r.entries.some((e) => withheld.has(e)));
    const keptEntries = (section.entry ?? []).map((e) => e.reference ?? '').filter((ref) => !withheld.has(ref));
    const lost = keptRows.length < rows.length || keptEntries.length < (section.entry ?? []).length;
    if (!lost) return section;
    withheldSections.push(section.code?.coding?.[0]?.code ?? '');
    const code = section.code?.coding?.[0]?.code ?? '';
    return withRows(sectionOf({ code, title: section.title ?? '', emptyText: section.emptyReason?.text ?? 'Nothing that may be shown to you.' }, keptRows, keptEntries, true), keptRows);
  });
  const copyComposition: Composition = {
    ...composition,
    id: resourceId('Composition', PASSPORT_SOURCE, key),
    extension: [...(composition.extension ?? []).filter((e) => e.url !== AUDIENCE_EXTENSION), { url: AUDIENCE_EXTENSION, valueString: audience }],
    section: sections,
  };
  const kept = (issued.entry ?? []).slice(1).filter((e) => e.resource && !withheld.has(refOf(e.resource)));
  const firstFullUrl = issued.entry?.[0]?.fullUrl ?? '';
  return {
    bundle: {
      resourceType: 'Bundle',
      id: resourceId('Bundle', PASSPORT_SOURCE, key),
      meta: { source: PASSPORT_SOURCE, security: documentSecurity(kept.map((e) => e.resource as Resource)) },
      identifier: { system: PASSPORT_DOCUMENT_SYSTEM, value: key },
      type: 'document',
      ...(issued.timestamp ? { timestamp: issued.timestamp } : {}),
      entry: [{ fullUrl: firstFullUrl.replace(/[^/]+$/, copyComposition.id ?? ''), resource: copyComposition }, ...kept],
    },
    withheldSections,
    withheldEntries: withheld.size,
    copy,
  };
}
