import type { Logger } from 'pino';
import { auditWithAccess } from '../gateway/access/access-audit';
import { CaldicottAccess } from '../gateway/access/caldicott-access';
import { noAudit, permitAll, type AccessHook, type AuditHook } from '../gateway/access/hooks';
import { SecureReader } from '../gateway/access/secure-reader';
import * as handlers from '../gateway/api/fhir-handlers';
import type { FhirRequest, FhirResponse } from '../gateway/api/fhir-request';
import { loadAuditConfig, openAuditKeys } from '../gateway/audit/audit-config';
import { AuditTrail } from '../gateway/audit/audit-trail';
import type { Directory, PersonRequester } from '../gateway/auth';
import { samePersonIds } from '../gateway/identity/resolver';
import type { QueryResult, SqlClient, SqlEngine } from '../gateway/store/engine';
import type { Store } from '../gateway/store/store';
import { NHS_NUMBER_SYSTEM } from '../mappings/identity/nhs-number';
import { untimedAccessParts } from './access-passthrough';
import { msSince } from './stats';
import { formatTable, ms } from './table';

/**
 * Where an enforced request's time goes, stage by stage: the same requests as the HTTP benchmark
 * through the FHIR handlers themselves (gateway/api/fhir-handlers.ts, what the router calls; the
 * body serialised as the router does), one at a time, enforced and permit-all taking turns. The
 * enforced side is the same classes composeAccess puts together (CaldicottAccess, AuditTrail with
 * the deployment's checkpoint key and interval, auditWithAccess), over a view of the store's engine
 * that times every statement and names it by what it reads; the hooks are wrapped to time the
 * access decision (AccessHook.scope), the per-resource check and the audit record (which resolves
 * once the entry is committed). One at a time, so a statement belongs to the stage that is running.
 */
export const Stage = { DECISION: 'decision', READ: 'read', CHECK: 'check', AUDIT: 'audit' } as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

export interface StageLine {
  readonly stage: Stage | 'handler';
  /** What the statement reads ('JavaScript' for the stage's time outside statements). */
  readonly label: string;
  readonly perRequest: number;
  readonly msPerRequest: number;
}

export interface OperationBreakdown {
  readonly operation: string;
  readonly requests: number;
  readonly onMs: number;
  readonly offMs: number;
  readonly offStatementMs: number;
  readonly lines: readonly StageLine[];
}

const STATEMENTS: readonly [RegExp, string][] = [
  [/FROM identity_person/, 'person ids (identity_person)'],
  [/FROM access_grant/, 'active grants (access_grant)'],
  [/FROM source_system/, 'source organisations (source_system)'],
  [/patient_ids && \$1::text\[\] AND resource_type = ANY/, 'relationship resources (person record)'],
  [/^SELECT patient_ids FROM resource/, 'compartment of the resource'],
  [/audit_alert/, 'privacy officer alerts'],
  [/audit_chain_head|audit_event/, 'chain append (one statement per batch)'],
  [/FROM sp_reference x JOIN resource/, 'referenced resources'],
  [/FROM resource/, 'resources (scoped SELECT)'],
];
const labelOf = (sql: string): string => STATEMENTS.find(([re]) => re.test(sql))?.[1] ?? sql.replace(/\s+/g, ' ').slice(0, 40);

class Tally {
  stage: Stage | 'handler' = 'handler';
  /** While a permit-all request runs: its statements are summed apart. */
  permitAll = false;
  permitAllStatementMs = 0;
  readonly statements = new Map<string, { stage: Stage | 'handler'; label: string; count: number; ms: number }>();
  readonly stages = new Map<Stage, number>();
  add(label: string, elapsed: number): void {
    if (this.permitAll) {
      this.permitAllStatementMs += elapsed;
      return;
    }
    const key = `${this.stage}|${label}`;
    const entry = this.statements.get(key) ?? { stage: this.stage, label, count: 0, ms: 0 };
    entry.count++;
    entry.ms += elapsed;
    this.statements.set(key, entry);
  }
  addStage(stage: Stage, elapsed: number): void {
    this.stages.set(stage, (this.stages.get(stage) ?? 0) + elapsed);
  }
  reset(): void {
    this.statements.clear();
    this.stages.clear();
    this.permitAllStatementMs = 0;
  }
}

function timedClient(client: SqlClient, tally: Tally): SqlClient {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const started = process.hrtime.bigint();
      try {
        return await client.query<R>(sql, params);
      } finally {
        tally.add(labelOf(sql), msSince(started));
      }
    },
  };
}

function timedEngine(engine: SqlEngine, tally: Tally): SqlEngine {
  return {
    kind: engine.kind,
    query: timedClient(engine, tally).query,
    transaction: (fn) => engine.transaction((tx) => fn(timedClient(tx, tally))),
    exec: (sql) => engine.exec(sql),
    close: () => engine.close(),
  };
}

async function timedStage<T>(tally: Tally, stage: Stage, fn: () => Promise<T>): Promise<T> {
  const outer = tally.stage;
  tally.stage = stage;
  const started = process.hrtime.bigint();
  try {
    return await fn();
  } finally {
    tally.addStage(stage, msSince(started));
    tally.stage = outer;
  }
}

function timedAccess(access: AccessHook, tally: Tally): AccessHook {
  return {
    scope: (request) => timedStage(tally, Stage.DECISION, () => access.scope(request)),
    check: (request, resource) => {
      const started = process.hrtime.bigint();
      const checked = access.check(request, resource);
      tally.addStage(Stage.CHECK, msSince(started));
      return checked;
    },
    ...untimedAccessParts(access),
  };
}

const timedAudit = (audit: AuditHook, tally: Tally): AuditHook => ({ record: (entry) => timedStage(tally, Stage.AUDIT, () => audit.record(entry)) });

export interface BreakdownInput {
  readonly store: Store;
  readonly requester: PersonRequester;
  readonly directory: Directory;
  /** Where the deployment's audit signing key is (DATA_DIR). */
  readonly dataDir: string;
  readonly logger: Logger;
  readonly reads: readonly { readonly type: string; readonly id: string }[];
  readonly nhsNumbers: readonly string[];
  readonly everything: readonly string[];
  readonly requests: number;
}

export async function accessBreakdown(input: BreakdownInput): Promise<OperationBreakdown[]> {
  const tally = new Tally();
  const engine = timedEngine(input.store.engine, tally);
  const auditConfig = loadAuditConfig(process.env, { dataDir: input.dataDir, production: false });
  const keys = await openAuditKeys(auditConfig, { create: true });
  const trail = new AuditTrail({ engine, node: auditConfig.node, ...(keys.signer ? { signer: keys.signer } : {}), checkpointEvery: auditConfig.checkpointEvery, checkpointIntervalMs: auditConfig.checkpointIntervalMs, logger: input.logger });
  const staticSources = Object.fromEntries(input.directory.systems.flatMap((s) => (s.organisation ? [[s.sourceUri, s.organisation] as const] : [])));
  const enforced = new SecureReader(engine, timedAccess(new CaldicottAccess(engine, { staticSources }), tally), timedAudit(auditWithAccess(trail, engine, input.logger), tally));
  const permitted = new SecureReader(engine, permitAll, noAudit);
  const linked = (id: string): Promise<string[]> => samePersonIds(engine, id);
  const fhirRequest = (n: number, parts: Partial<FhirRequest>): FhirRequest => ({ requestId: `breakdown-${String(n)}`, requester: input.requester, baseUrl: 'http://127.0.0.1/fhir', query: new URLSearchParams(), ...parts });

  const operations: { name: string; run: (reader: SecureReader, n: number) => Promise<FhirResponse> }[] = [
    {
      name: 'read by id',
      run: (reader, n) => {
        const key = input.reads[n % input.reads.length] as { type: string; id: string };
        return handlers.read(fhirRequest(n, { resourceType: key.type, id: key.id }), reader);
      },
    },
    {
      name: 'search by NHS number',
      run: (reader, n) => handlers.search(fhirRequest(n, { resourceType: 'Patient', query: new URLSearchParams({ identifier: `${NHS_NUMBER_SYSTEM}|${input.nhsNumbers[n % input.nhsNumbers.length] ?? ''}` }) }), reader),
    },
    { name: '$everything', run: (reader, n) => handlers.everything(fhirRequest(n, { resourceType: 'Patient', id: input.everything[n % input.everything.length] ?? '' }), reader, linked) },
  ];

  const results: OperationBreakdown[] = [];
  try {
    for (const op of operations) {
      const timeOne = async (reader: SecureReader, n: number): Promise<number> => {
        tally.permitAll = reader === permitted;
        const started = process.hrtime.bigint();
        try {
          const response = await op.run(reader, n);
          JSON.stringify(response.body);
          if (response.status !== 200) throw new Error(`access breakdown: ${op.name} answered ${String(response.status)}`);
          return msSince(started);
        } finally {
          tally.permitAll = false;
        }
      };
      for (let n = 0; n < 20; n++) {
        await timeOne(enforced, n);
        await timeOne(permitted, n);
      }
      tally.reset();
      let onMs = 0;
      let offMs = 0;
      for (let n = 0; n < input.requests; n++) {
        onMs += await timeOne(enforced, n);
        offMs += await timeOne(permitted, n);
      }
      const offStatementMs = tally.permitAllStatementMs;
      const per = (v: number): number => v / input.requests;
      const lines: StageLine[] = [];
      let accounted = 0;
      for (const stage of [Stage.DECISION, Stage.READ, Stage.CHECK, Stage.AUDIT] as const) {
        // Statements outside the wrapped hooks are the handler's own: the scoped read (and $everything's linked ids).
        const statements = [...tally.statements.values()].filter((s) => s.stage === (stage === Stage.READ ? 'handler' : stage));
        for (const s of statements.sort((a, b) => b.ms - a.ms)) lines.push({ stage, label: s.label, perRequest: per(s.count), msPerRequest: per(s.ms) });
        const statementMs = statements.reduce((sum, s) => sum + s.ms, 0);
        const stageMs = tally.stages.get(stage);
        accounted += stageMs ?? statementMs;
        if (stageMs === undefined) continue;
        const outside = stageMs - statementMs;
        // Statements run in parallel (the decision reads grants and sources together) overlap, so their sum can exceed the stage.
        lines.push(outside >= 0 ? { stage, label: 'JavaScript (stage time outside statements)', perRequest: 0, msPerRequest: per(outside) } : { stage, label: `stage wall clock ${ms(per(stageMs))} ms (statements in parallel overlap)`, perRequest: 0, msPerRequest: 0 });
      }
      lines.push({ stage: 'handler', label: 'JavaScript (handler, bundle, serialise)', perRequest: 0, msPerRequest: per(onMs - accounted) });
      results.push({ operation: op.name, requests: input.requests, onMs: per(onMs), offMs: per(offMs), offStatementMs: per(offStatementMs), lines });
    }
  } finally {
    await trail.close();
  }
  return results;
}

export function breakdownTable(results: readonly OperationBreakdown[]): string {
  const out: string[] = [];
  for (const r of results) {
    const rows: string[][] = [['stage', 'what', 'per request', 'ms per request', 'share of enforced']];
    for (const l of r.lines) rows.push([l.stage, l.label, l.perRequest > 0 ? l.perRequest.toFixed(2) : '—', ms(l.msPerRequest), `${String(Math.round((l.msPerRequest / r.onMs) * 100))}%`]);
    rows.push(['total', 'enforced, audited', '—', ms(r.onMs), '100%']);
    rows.push(['total', `permit-all, no audit (of which SQL ${ms(r.offStatementMs)} ms)`, '—', ms(r.offMs), `${String(Math.round((r.offMs / r.onMs) * 100))}%`]);
    out.push(`${r.operation}: ${String(r.requests)} requests one at a time, enforced/permit-all ${(r.onMs / r.offMs).toFixed(2)}×\n${formatTable(rows)}`);
  }
  return out.join('\n\n');
}
