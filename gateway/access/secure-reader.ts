import type { Resource } from '@medplum/fhirtypes';
import type { SqlClient } from '../store/engine';
import {
  readCompartment,
  readHistory,
  readIncluded,
  readResource,
  readRevIncluded,
  readVersion,
  answerableAmong,
  searchAmong,
  searchResources,
  type ReadOutcome,
} from '../store/resource-reader';
import type { SearchQuery } from '../store/search-query';
import { HttpOutcomeError } from '../api/errors';
import type { AccessScope } from '../store/access-scope';
import { AccessRefusal, type AccessHook, type AuditHook, type AuditRecord, type ReadRequest } from './hooks';

const refOf = (r: Resource): string => `${r.resourceType}/${r.id ?? ''}`;

export interface CheckedList {
  resources: Resource[];
  withheld: number;
}

/**
 * The only way the API, viewer and passports read the record: each call asks the access hook for
 * the request's scope (SQL, before paging), checks and redacts each resource read, and writes the
 * audit record before returning. Handlers get this, never the store.
 */
export class SecureReader {
  constructor(
    private readonly db: SqlClient,
    private readonly access: AccessHook,
    private readonly audit: AuditHook,
  ) {}

  private checkAll(request: ReadRequest, resources: readonly Resource[]): CheckedList {
    const kept: Resource[] = [];
    for (const resource of resources) {
      const checked = this.access.check(request, resource);
      if (checked) kept.push(checked);
    }
    return { resources: kept, withheld: resources.length - kept.length };
  }

  /** The request's scope; a refusal is audited and becomes the HTTP answer its message gives. */
  private async scopeOf(request: ReadRequest): Promise<AccessScope> {
    try {
      return await this.access.scope(request);
    } catch (err) {
      if (!(err instanceof AccessRefusal)) throw err;
      await this.record({ request, outcome: 'deny', returned: [], withheld: 0, refusal: err.message });
      throw new HttpOutcomeError(err.status, err.code, err.message);
    }
  }

  /** Every audit record carries the access decision behind it. */
  private record(entry: AuditRecord): Promise<void> {
    const access = this.access.explain?.(entry.request);
    return this.audit.record(access ? { ...entry, access } : entry);
  }

  private async single(request: ReadRequest, outcome: ReadOutcome): Promise<ReadOutcome> {
    if (!outcome.found) {
      await this.record({ request, outcome: outcome.withheld ? 'deny' : 'not-found', returned: [], withheld: outcome.withheld ? 1 : 0 });
      return outcome;
    }
    const checked = this.access.check(request, outcome.resource);
    if (!checked) {
      await this.record({ request, outcome: 'deny', returned: [], withheld: 1 });
      return { found: false, withheld: true };
    }
    await this.record({ request, outcome: 'permit', returned: [refOf(checked)], withheld: 0 });
    return { found: true, resource: checked };
  }

  async read(request: ReadRequest, resourceType: string, id: string): Promise<ReadOutcome> {
    const scope = await this.scopeOf(request);
    return this.single(request, await readResource(this.db, scope, resourceType, id));
  }

  async vread(request: ReadRequest, resourceType: string, id: string, versionId: string): Promise<ReadOutcome> {
    const scope = await this.scopeOf(request);
    return this.single(request, await readVersion(this.db, scope, resourceType, id, versionId));
  }

  async history(request: ReadRequest, resourceType: string, id: string, options: { count: number; before?: string; since?: Date }): Promise<(CheckedList & { total: number; nextBefore?: string }) | undefined> {
    const scope = await this.scopeOf(request);
    const page = await readHistory(this.db, scope, resourceType, id, options);
    if (page.total === 0 && page.withheld === 0) {
      await this.record({ request, outcome: 'not-found', returned: [], withheld: 0 });
      return undefined;
    }
    const checked = this.checkAll(request, page.versions);
    const withheld = checked.withheld + page.withheld;
    await this.record({ request, outcome: 'permit', returned: checked.resources.map((r) => `${refOf(r)}/_history/${r.meta?.versionId ?? ''}`), withheld });
    return { resources: checked.resources, withheld, total: page.total, nextBefore: page.nextBefore };
  }

  async search(request: ReadRequest, query: SearchQuery, queryText: string): Promise<{ matches: Resource[]; included: Resource[]; withheld: number; total?: number; next?: string; previous?: string }> {
    const scope = await this.scopeOf(request);
    // The matches the decision read for this very query, when they are all of them: scoped here, not searched again.
    const found = query === request.query && answerableAmong(query, scope) ? this.access.matchesRead?.(request) : undefined;
    const page = found ? searchAmong(found, scope, query) : await searchResources(this.db, scope, query);
    const matches = this.checkAll(request, page.resources);
    const included = [
      ...(query.include.length > 0 ? await readIncluded(this.db, scope, matches.resources, query.include) : []),
      ...(query.revInclude.length > 0 ? await readRevIncluded(this.db, scope, matches.resources, query.revInclude) : []),
    ];
    // Each resource once: a match is not repeated as an include, nor an include reached both ways.
    const seen = new Set(matches.resources.map(refOf));
    const extra = this.checkAll(
      request,
      included.filter((r) => {
        const key = refOf(r);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      }),
    );
    const withheld = matches.withheld + extra.withheld + (page.withheld ?? 0);
    await this.record({ request, outcome: 'permit', returned: [...matches.resources, ...extra.resources].map(refOf), withheld, query: queryText });
    return { matches: matches.resources, included: extra.resources, withheld, total: page.total, next: page.next, previous: page.previous };
  }

  async everything(request: ReadRequest, patientIds: readonly string[], options: { count: number; after?: string; types?: readonly string[]; since?: Date }): Promise<CheckedList & { next?: string }> {
    const scope = await this.scopeOf(request);
    const page = await readCompartment(this.db, scope, patientIds, options);
    const checked = this.checkAll(request, page.resources);
    const withheld = checked.withheld + page.withheld;
    await this.record({ request, outcome: 'permit', returned: checked.resources.map(refOf), withheld });
    return { ...checked, withheld, next: page.next };
  }
}
