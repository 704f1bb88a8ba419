import type { SourceRow, SocialCareTable } from '../../adapters/social-care/tables';
import type { SocialCareContext, SocialCareIssue } from './context';
import type { PersonRow } from './allocations';
import { AGGREGATED_TABLES, ExtractMapper, mapPersonAggregate, type ExtractMapperOptions, type WrittenResource } from './extract-mapper';

/**
 * A whole extract mapped in memory: the rows (in import order) through the ExtractMapper, then
 * each person's care team, open cases and care package from their kept rows, then the shared
 * resources. The importer does the same streaming, with the kept rows in the store; this is for
 * golden tests and small extracts.
 */
export function mapExtractInMemory(context: SocialCareContext, rows: Iterable<SourceRow>, options: ExtractMapperOptions = {}): { resources: WrittenResource[]; issues: SocialCareIssue[] } {
  const mapper = new ExtractMapper(context, options);
  const resources: WrittenResource[] = [];
  const issues: SocialCareIssue[] = [];
  const kept = new Map<SocialCareTable, Map<string, Map<string, PersonRow>>>();
  for (const row of rows) {
    const outcome = mapper.row(row);
    resources.push(...outcome.resources);
    issues.push(...outcome.issues);
    const record = outcome.record;
    if (record && AGGREGATED_TABLES.has(record.table)) {
      const byPerson = kept.get(record.table) ?? new Map<string, Map<string, PersonRow>>();
      kept.set(record.table, byPerson);
      const ofPerson = byPerson.get(record.personId) ?? new Map<string, PersonRow>();
      byPerson.set(record.personId, ofPerson);
      ofPerson.set(record.recordId, record.deleted ? { row: record.row, retirement: { on: context.extractedAt.slice(0, 10) } } : { row: record.row });
    }
  }
  for (const [table, byPerson] of kept) {
    for (const personId of [...byPerson.keys()].sort()) resources.push(...mapPersonAggregate(context, table, personId, [...(byPerson.get(personId)?.values() ?? [])]));
  }
  resources.push(...mapper.sharedResources());
  issues.push(...mapper.sharedNhsIssues);
  return { resources, issues };
}
