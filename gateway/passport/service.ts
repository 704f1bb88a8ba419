import { randomUUID } from 'node:crypto';
import type { Bundle, DocumentReference, Encounter, Organization, Patient, Reference, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { mayOpenPassport, passportAlerts, passportEntryWithheld } from '../../consent/passport';
import type { AccessAlert } from '../../consent/types';
import { PLANNED_END_EXTENSION } from '../../mappings/hl7v2/tables/encounter';
import { Hl7EventKind } from '../../mappings/hl7v2/tables/events';
import { CARE_HOME_RESIDENCE_EXTENSION } from '../../mappings/identifiers';
import { RedBagEventKind } from '../../mappings/notify/topics';
import { buildDischargePassport, buildTransferPassport } from '../../mappings/passport/build';
import { careHomeSource, DOCUMENT_TYPE_SYSTEM, isDischargeSummaryType, PASSPORT_SOURCE, PASSPORT_TYPE } from '../../mappings/passport/codes';
import { compositionOf, parseDocumentIdentifier } from '../../mappings/passport/document';
import { passportView } from '../../mappings/passport/document-view';
import { advanceJourney, BagState, JOURNEY_EVENT_KINDS, startJourney, type Journey } from '../../mappings/passport/journey';
import { readerCopy } from '../../mappings/passport/reader-copy';
import { stayComposition } from '../../mappings/passport/stay-summary';
import { RecordIndex } from '../../mappings/passport/record-text';
import { transferFormResources, type TransferForm } from '../../mappings/passport/transfer-form';
import { PassportKind, type PassportView } from '../../mappings/passport/view';
import { resourceId } from '../../mappings/ids';
import type { PersonAccess } from '../access/caldicott-access';
import type { Requester } from '../access/hooks';
import { HttpOutcomeError } from '../api/errors';
import { AuditOperation, type OperationRecord } from '../audit/audit-event';
import { GOLDEN_SOURCE } from '../identity/golden';
import { samePersonIds } from '../identity/resolver';
import { ingestResources } from '../ingest/ingest';
import type { SqlClient } from '../store/engine';
import type { Store } from '../store/store';
import { recordOutboxEvent } from '../store/outbox';
import {
  bagsOfPerson,
  findByFingerprint,
  getBag,
  getPassport,
  insertBag,
  insertPassport,
  latestVersion,
  recordCopy,
  updateJourney,
  versionsOfBags,
  type PassportRow,
  type PassportVersionSummary,
  type RedBagRow,
} from './passport-store';
import { loadPassportRecord, passportSubject } from './record-loader';
import { passportFingerprint, type PassportSigner } from './signing';

/**
 * Red bag passports (specs/red-bag-passport.md), the gateway side: the care home's transfer form
 * recorded under the home's own source and the transfer passport issued from the record; the
 * bag's journey followed from the hospital's messages in the outbox; the discharge passport built
 * when the discharge arrives and rebuilt when a discharge summary comes after it; every version
 * signed and kept unchanged; each reader given the copy the access rules allow, signed on its own;
 * every issue and read audited. Journey steps go to the outbox, which notifications deliver.
 */

export interface PassportServiceOptions {
  readonly store: Store;
  readonly signer: PassportSigner;
  /** The access decision for one person, as the requester would get it now (CaldicottAccess.decide). */
  readonly decide: (requester: Requester, patientId: string) => Promise<PersonAccess>;
  /** The audit trail's named operations. */
  readonly audit: (record: OperationRecord) => Promise<unknown>;
  /** The privacy officer's alerts a permitted read raises (very restricted content shown, an override of a refusal), as for any read of the record. */
  readonly alert?: (look: { readonly requester: Requester; readonly patientId: string; readonly requestId: string; readonly alerts: readonly AccessAlert[] }) => Promise<void>;
  /** meta.source → the organisation's name, for each row's "From …". */
  readonly sourceName: (source: string | undefined) => string;
  /** The organisation a sending system belongs to (the directory), for transfer requests through the FHIR intake. */
  readonly sourceOrganisation?: (source: string) => string | undefined;
  /** `{publicBaseUrl}/fhir`: the FHIR base of the documents' fullUrls. */
  readonly fhirBase: string;
  readonly logger: Logger;
  /** Called once journey events are committed to the outbox, so notifications go now, not at the next poll. */
  readonly onEvents?: () => void;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/** Everyone the bag's person is known as now (the bag's ids, and any record linked since it left, e.g. a hospital's eDischarge system). */
async function bagPersonIds(db: SqlClient, bag: RedBagRow): Promise<string[]> {
  return [...new Set([...bag.personIds, ...(await samePersonIds(db, bag.patientId))])];
}

const refOfComposition = (c: { id?: string } | undefined): string | undefined => (c ? `Composition/${c.id ?? ''}` : undefined);

export interface IssueRequest {
  readonly patientId: string;
  readonly form: TransferForm;
  readonly requester: Requester;
  readonly requestId: string;
}

export interface Issued {
  readonly redBagId: string;
  readonly passportId: string;
  readonly version: number;
  readonly fingerprint: string;
}

export interface ReaderDocument {
  readonly bundle: Bundle;
  readonly fingerprint: string;
  readonly view: PassportView;
  readonly latestVersion: number;
  readonly withheldSections: readonly string[];
}

export interface BagSummary {
  readonly bag: RedBagRow;
  readonly versions: readonly PassportVersionSummary[];
}

const OPEN_STATES = [BagState.SENT, BagState.ARRIVED, BagState.AWAITING_DISCHARGE, BagState.RETURNED];
const SETTLE_SECONDS = 10;
const ROLE_AUDIENCE: Readonly<Record<string, string>> = { care_home_staff: 'care home staff', hospital_clinician: 'hospital staff', gp: 'GP practice', community_nurse: 'community nursing', urgent_care: 'urgent care', social_worker: 'social care', care_coordinator: 'care co-ordination', mental_health: 'mental health', therapist: 'therapy', pharmacist: 'pharmacy' };

export const transferPassportId = (redBagId: string): string => resourceId('Composition', PASSPORT_SOURCE, `transfer|${redBagId}`);
export const dischargePassportId = (redBagId: string): string => resourceId('Composition', PASSPORT_SOURCE, `discharge|${redBagId}`);

export class PassportService {
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(private readonly options: PassportServiceOptions) {
    this.now = options.now ?? ((): Date => new Date());
    this.newId = options.newId ?? randomUUID;
  }

  private get db(): SqlClient {
    return this.options.store.engine;
  }

  private sourceNames(record: readonly Resource[]): Record<string, string> {
    const names: Record<string, string> = {};
    for (const r of record) {
      const source = r.meta?.source;
      if (source && !(source in names)) names[source] = source === GOLDEN_SOURCE ? 'CareBridge person record (from every source)' : this.options.sourceName(source);
    }
    return names;
  }

  /** The care home the person lives in, from any source record, when the requester works there. */
  private careHomeOf(record: readonly Resource[], organisation: string | undefined): Reference<Organization> | undefined {
    const homes = record.filter((r): r is Patient => r.resourceType === 'Patient').flatMap((p) => (p.extension ?? []).filter((e) => e.url === CARE_HOME_RESIDENCE_EXTENSION).map((e) => e.valueReference as Reference<Organization> | undefined));
    return homes.find((h) => h?.identifier?.system && `${h.identifier.system}|${h.identifier.value ?? ''}` === organisation) ?? undefined;
  }

  /** The care home's transfer form: recorded as the home's own data, then a transfer passport issued (a new version if the bag has not left). */
  async issueTransfer(request: IssueRequest): Promise<Issued> {
    const { requester } = request;
    // Every refusal is audited as well as answered: an attempt to write into someone's record is worth knowing about.
    const refuse = async (reason: string, text: string): Promise<never> => {
      await this.options.audit({ requestId: request.requestId, requester, operation: AuditOperation.PASSPORT_ISSUE, outcome: 'deny', patientIds: [request.patientId], entities: [], reasons: [reason] });
      throw new HttpOutcomeError(403, 'forbidden', text);
    };
    if (requester.role !== 'care_home_staff') return refuse('not care home staff', 'Only care home staff fill in the transfer form, for their own residents');
    const { decision, personIds } = await this.options.decide(requester, request.patientId);
    if (decision.needsPermissionToView) return refuse('permission to view not recorded', 'Record whether the resident gave permission to view their record first');
    if (decision.effect !== 'permit') return refuse(decision.reasons.at(-1) ?? 'access denied', 'You may fill in the transfer form only for a resident of your care home');
    const before = await loadPassportRecord(this.db, personIds);
    const home = this.careHomeOf(before, requester.organisation);
    if (!home) return refuse('not a resident of the requester\'s care home', 'The record does not say this person lives in your care home');
    const now = this.now();
    const open = await this.openBag(personIds, requester.organisation);
    const redBagId = open?.id ?? this.newId();
    const source = careHomeSource(home.identifier?.value ?? requester.organisation ?? 'care-home');
    const formResources = transferFormResources(request.form, { patient: { reference: `Patient/${request.patientId}` }, careHome: home, source, transferKey: redBagId, recordedBy: requester.displayName ?? requester.userId });
    await ingestResources(this.options.store, formResources, { now });
    return this.issueFromForm({ patientId: request.patientId, personIds, home, requester, requestId: request.requestId, open, redBagId, form: formResources, now });
  }

  private async openBag(personIds: readonly string[], careHome: string | undefined): Promise<RedBagRow | undefined> {
    return (await bagsOfPerson(this.db, personIds, [BagState.SENT])).find((b) => b.careHome === careHome);
  }

  /**
   * A transfer request from a care home's own record system (FHIR intake, RedBagEventKind.TRANSFER_REQUESTED):
   * the Bundle's ServiceRequest, observations, doses, items sent and answers are the form. Issued
   * only when the sending system belongs to the care home the record says the person lives in.
   */
  private async issueFromIntake(row: { patient_id: string; source: string; payload: { serviceRequest?: string; entries?: string[] } }): Promise<void> {
    const organisation = this.options.sourceOrganisation?.(row.source);
    const personIds = await samePersonIds(this.db, row.patient_id);
    const record = await loadPassportRecord(this.db, personIds);
    const home = organisation ? this.careHomeOf(record, organisation) : undefined;
    if (!home || !organisation) {
      this.options.logger.warn({ source: row.source }, 'transfer request not issued as a passport: the sending system is not of the care home the person lives in');
      return;
    }
    const wanted = new Set(row.payload.entries ?? []);
    const form = record.filter((r) => r.meta?.source === row.source && wanted.has(`${r.resourceType}/${r.id ?? ''}`));
    const open = await this.openBag(personIds, organisation);
    const requester: Requester = { userId: `system:${row.source}`, displayName: this.options.sourceName(row.source), role: 'care_home_system', organisation, system: row.source, purposeOfUse: 'TREAT' };
    await this.issueFromForm({ patientId: row.patient_id, personIds, home, requester, requestId: `intake:${row.payload.serviceRequest ?? ''}`, open, redBagId: open?.id ?? this.newId(), form, now: this.now() });
  }

  private async issueFromForm(input: { patientId: string; personIds: readonly string[]; home: Reference<Organization>; requester: Requester; requestId: string; open: RedBagRow | undefined; redBagId: string; form: readonly Resource[]; now: Date }): Promise<Issued> {
    const { requester, home, open, redBagId, now } = input;
    const request = { patientId: input.patientId, requestId: input.requestId };
    const personIds = input.personIds;
    const record = await loadPassportRecord(this.db, personIds);
    const subject = passportSubject(record, request.patientId);
    if (!subject) throw new HttpOutcomeError(404, 'not-found', 'There is no such person');
    const passportId = transferPassportId(redBagId);
    const version = (await latestVersion(this.db, passportId)) + 1;
    const issuedAt = now.toISOString();
    const unsigned = buildTransferPassport({
      passportId,
      version,
      redBagId,
      issuedBy: { ...home, display: home.display ?? 'Care home' },
      fhirBase: this.options.fhirBase,
      subject,
      index: new RecordIndex(record),
      form: input.form.map((f) => record.find((r) => r.resourceType === f.resourceType && r.id === f.id) ?? f),
      issuedAt,
      sourceNames: this.sourceNames(record),
      ...(version > 1 ? { reason: 'The care home updated the transfer form before the person arrived at hospital' } : {}),
    });
    const signed = await this.sign(unsigned, issuedAt);
    const fingerprint = passportFingerprint(signed);
    await this.options.store.engine.transaction(async (tx) => {
      if (!open) {
        await insertBag(tx, { id: redBagId, patientId: request.patientId, personIds, careHome: requester.organisation ?? '', careHomeName: home.display ?? '', journey: startJourney(issuedAt), openedBy: requester.userId, createdAt: issuedAt });
      }
      await insertPassport(tx, { id: passportId, version, kind: PassportKind.TRANSFER, redBagId, patientId: request.patientId, issuedAt, issuedBy: home.display ?? 'Care home', issuedByUser: requester.userId, ...(version > 1 ? { reason: 'transfer form updated' } : {}), fingerprint, document: signed });
      await this.recordEvent(tx, RedBagEventKind.PASSPORT_ISSUED, request.patientId, undefined, issuedAt, { redBagId, passportId, version, kind: PassportKind.TRANSFER });
      if (!open) await this.recordEvent(tx, RedBagEventKind.SENT, request.patientId, undefined, issuedAt, { redBagId, state: BagState.SENT });
    });
    this.options.onEvents?.();
    await this.indexDocument(signed, request.patientId, passportId, version, PassportKind.TRANSFER, home, undefined);
    await this.options.audit({ requestId: request.requestId, requester, operation: AuditOperation.PASSPORT_ISSUE, outcome: 'permit', patientIds: [request.patientId], entities: [`Bundle/${signed.id ?? ''}`, ...input.form.map((r) => `${r.resourceType}/${r.id ?? ''}`)], reasons: [`transfer passport version ${String(version)} issued`] });
    this.options.logger.info({ redBagId, passportId, version }, 'transfer passport issued');
    return { redBagId, passportId, version, fingerprint };
  }

  private async sign(bundle: Bundle, when: string): Promise<Bundle> {
    return this.options.signer.sign(bundle, when, { display: 'CareBridge shared care record (passport signing key)' });
  }

  private async recordEvent(db: SqlClient, kind: RedBagEventKind, patientId: string, encounterId: string | undefined, at: string, payload: Record<string, unknown>): Promise<void> {
    await recordOutboxEvent(db, { kind, patientId, encounterId: encounterId ?? '', source: PASSPORT_SOURCE, inboxId: null, eventTime: at, payload: { ...payload, changedState: true } });
  }

  /** A DocumentReference in the record for each passport (the latest version), so the record's documents list it for those allowed. */
  private async indexDocument(signed: Bundle, patientId: string, passportId: string, version: number, kind: PassportKind, author: Reference<Organization>, encounterId: string | undefined): Promise<void> {
    const reference: DocumentReference = {
      resourceType: 'DocumentReference',
      id: resourceId('DocumentReference', PASSPORT_SOURCE, passportId),
      meta: { source: PASSPORT_SOURCE },
      masterIdentifier: signed.identifier ?? { value: `${passportId}/${String(version)}` },
      status: 'current',
      docStatus: 'final',
      type: PASSPORT_TYPE[kind],
      category: [{ coding: [{ system: DOCUMENT_TYPE_SYSTEM, code: kind }] }],
      subject: { reference: `Patient/${patientId}` },
      date: signed.timestamp ?? this.now().toISOString(),
      author: [author],
      description: `${compositionOf(signed)?.title ?? 'Passport'}, version ${String(version)}`,
      content: [{ attachment: { contentType: 'application/fhir+json', url: `/passport/${passportId}/${String(version)}`, title: compositionOf(signed)?.title ?? 'Passport' } }],
      ...(encounterId ? { context: { encounter: [{ reference: `Encounter/${encounterId}` }] } } : {}),
    };
    await ingestResources(this.options.store, [reference], { now: this.now() });
  }

  /** The discharge passport for a bag, built now from the record (a new version when one was issued before). */
  private async issueDischarge(bag: RedBagRow, encounterId: string, reason: string | undefined): Promise<PassportRow | undefined> {
    const record = await loadPassportRecord(this.db, await bagPersonIds(this.db, bag));
    const encounter = record.find((r): r is Encounter => r.resourceType === 'Encounter' && r.id === encounterId);
    const subject = passportSubject(record, bag.patientId);
    if (!encounter || !subject) {
      this.options.logger.warn({ redBagId: bag.id }, 'discharge passport not built: the stay or the person is not in the record');
      return undefined;
    }
    const transfer = await getPassport(this.db, transferPassportId(bag.id));
    const documents = record.filter((r): r is DocumentReference => r.resourceType === 'DocumentReference' && r.meta?.source !== PASSPORT_SOURCE && r.status === 'current' && (r.context?.encounter ?? []).some((e) => e.reference === `Encounter/${encounterId}`) && isDischargeSummaryType(r.type) && !(r.content.some((c) => c.attachment.contentType?.startsWith('application/fhir+json'))));
    const composition = stayComposition(record, encounter, (c) => c.meta?.source === PASSPORT_SOURCE);
    const passportId = dischargePassportId(bag.id);
    const version = (await latestVersion(this.db, passportId)) + 1;
    const issuedAt = this.now().toISOString();
    const hospital: Reference<Organization> = encounter.serviceProvider ? { ...encounter.serviceProvider, display: this.options.sourceName(encounter.meta?.source) || encounter.serviceProvider.display || 'Hospital' } : { display: this.options.sourceName(encounter.meta?.source) || 'Hospital' };
    const unsigned = buildDischargePassport({
      passportId,
      version,
      redBagId: bag.id,
      issuedBy: hospital,
      fhirBase: this.options.fhirBase,
      subject,
      index: new RecordIndex(record),
      encounter,
      issuedAt,
      sourceNames: this.sourceNames(record),
      ...(transfer ? { transferPassport: transfer.document } : {}),
      summaries: { ...(composition ? { composition: composition } : {}), documents },
      ...(reason ? { reason } : {}),
    });
    const signed = await this.sign(unsigned, issuedAt);
    const row: PassportRow = { id: passportId, version, kind: PassportKind.DISCHARGE, redBagId: bag.id, patientId: bag.patientId, issuedAt, issuedBy: hospital.display ?? 'Hospital', issuedByUser: 'carebridge', ...(reason ? { reason } : {}), fingerprint: passportFingerprint(signed), document: signed };
    await this.options.store.engine.transaction(async (tx) => {
      await insertPassport(tx, row);
      await this.recordEvent(tx, RedBagEventKind.DISCHARGE_PASSPORT_ISSUED, bag.patientId, encounterId, issuedAt, { redBagId: bag.id, passportId, version, kind: PassportKind.DISCHARGE });
    });
    this.options.onEvents?.();
    await this.indexDocument(signed, bag.patientId, passportId, version, PassportKind.DISCHARGE, hospital, encounterId);
    this.options.logger.info({ redBagId: bag.id, passportId, version }, 'discharge passport issued');
    return row;
  }

  /**
   * Follows the hospital's messages: each new outbox event of a person with an open bag moves its
   * journey (or, for a discharge summary after the discharge, rebuilds the discharge passport).
   * Returns how many events were looked at. Safe to run in several processes: the cursor row is
   * taken FOR UPDATE SKIP LOCKED, so one runs at a time and the others return 0.
   */
  async followJourneys(limit = 200): Promise<number> {
    return this.options.store.engine.transaction(async (tx) => {
      const cursor = await tx.query<{ outbox_id: string }>(`SELECT outbox_id::text AS outbox_id FROM red_bag_cursor WHERE name = 'journey' FOR UPDATE SKIP LOCKED`);
      const from = cursor.rows[0]?.outbox_id;
      if (from === undefined) return 0;
      const rows = await tx.query<{ id: string; kind: string; patient_id: string | null; encounter_id: string | null; event_time: Date | string; source: string; payload: Record<string, unknown> | string | null }>(
        `SELECT o.id::text AS id, o.kind, o.patient_id, NULLIF(o.encounter_id, '') AS encounter_id, o.event_time, o.source, o.payload FROM outbox o
          WHERE o.id > $1::bigint AND o.kind = ANY($2::text[]) AND NOT EXISTS (SELECT 1 FROM red_bag_seen s WHERE s.outbox_id = o.id) ORDER BY o.id LIMIT $3`,
        [from, [...JOURNEY_EVENT_KINDS], limit],
      );
      for (const row of rows.rows) {
        const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : (row.payload ?? {})) as Record<string, unknown>;
        if (row.patient_id) await this.followEvent(tx, { ...row, payload, patient_id: row.patient_id, event_time: row.event_time instanceof Date ? row.event_time.toISOString() : new Date(row.event_time).toISOString() });
        await tx.query('INSERT INTO red_bag_seen (outbox_id) VALUES ($1::bigint) ON CONFLICT DO NOTHING', [row.id]);
      }
      // The cursor passes only rows old enough that no lower id can still commit after them.
      await tx.query(
        `UPDATE red_bag_cursor c SET outbox_id = greatest(c.outbox_id, coalesce((
           SELECT max(o.id) FROM outbox o WHERE o.id > c.outbox_id AND o.created_at < now() - interval '${String(SETTLE_SECONDS)} seconds'
             AND o.id < coalesce((SELECT min(u.id) FROM outbox u WHERE u.id > c.outbox_id AND u.kind = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM red_bag_seen s WHERE s.outbox_id = u.id)), 9223372036854775807)
         ), c.outbox_id)) WHERE c.name = 'journey'`,
        [[...JOURNEY_EVENT_KINDS]],
      );
      return rows.rows.length;
    });
  }

  private async followEvent(tx: SqlClient, row: { id: string; kind: string; patient_id: string; encounter_id: string | null; event_time: string; source: string; payload: Record<string, unknown> }): Promise<void> {
    if (row.kind === RedBagEventKind.TRANSFER_REQUESTED) {
      await this.afterCommit(() => this.issueFromIntake({ patient_id: row.patient_id, source: row.source, payload: row.payload }));
      return;
    }
    const personIds = await samePersonIds(tx, row.patient_id);
    const bags = await bagsOfPerson(tx, personIds, OPEN_STATES);
    for (const bag of bags) {
      if (row.kind === Hl7EventKind.DOCUMENT) {
        // A discharge summary for the bag's stay after the discharge passport: a new version that uses it.
        if (bag.journey.state === BagState.RETURNED && (await this.isSummaryOfStay(tx, row, bag)) && (await latestVersion(tx, dischargePassportId(bag.id))) > 0) {
          await this.afterCommit(() => this.issueDischarge(bag, row.encounter_id ?? '', 'The hospital\'s discharge summary arrived after the discharge'));
        }
        continue;
      }
      const expectedDischarge = row.kind === Hl7EventKind.PENDING_DISCHARGE && row.encounter_id ? await this.expectedDischarge(tx, row.encounter_id) : undefined;
      const change = advanceJourney(bag.journey, { kind: row.kind, eventTime: row.event_time, outboxId: row.id, ...(row.encounter_id ? { encounterId: row.encounter_id } : {}), ...(expectedDischarge ? { expectedDischarge } : {}) });
      if (!change) continue;
      await updateJourney(tx, bag.id, change.journey, [...new Set([...bag.personIds, ...personIds])], this.now());
      await this.recordEvent(tx, change.event, bag.patientId, change.journey.encounterId ?? row.encounter_id ?? undefined, row.event_time, {
        redBagId: bag.id,
        state: change.journey.state,
        step: change.step,
        undone: change.undone,
        ...(change.journey.expectedDischarge ? { expectedDischarge: change.journey.expectedDischarge } : {}),
      });
      if (change.step === BagState.RETURNED && !change.undone) {
        const updated: RedBagRow = { ...bag, journey: change.journey, personIds: [...new Set([...bag.personIds, ...personIds])], ...(change.journey.encounterId ? { encounterId: change.journey.encounterId } : {}) };
        const again = (await latestVersion(tx, dischargePassportId(bag.id))) > 0;
        await this.afterCommit(() => this.issueDischarge(updated, change.journey.encounterId ?? '', again ? 'Discharged again after a cancelled discharge' : undefined));
      }
    }
  }

  /** Whether a discharge summary event is about the bag's stay: HL7 MDM by its encounter, a FHIR eDischarge by stayComposition's rules. */
  private async isSummaryOfStay(tx: SqlClient, row: { encounter_id: string | null; payload: Record<string, unknown> }, bag: RedBagRow): Promise<boolean> {
    if (!bag.encounterId) return false;
    if (row.encounter_id === bag.encounterId) return true;
    const composition = row.payload['composition'];
    if (typeof composition !== 'string') return false;
    const record = await loadPassportRecord(tx, await bagPersonIds(tx, bag));
    const stay = record.find((r): r is Encounter => r.resourceType === 'Encounter' && r.id === bag.encounterId);
    return stay !== undefined && refOfComposition(stayComposition(record, stay, (c) => c.meta?.source === PASSPORT_SOURCE)) === composition;
  }

  private pending: (() => Promise<unknown>)[] = [];

  /** Work that writes in its own transactions (building a discharge passport), run once the journey's transaction has committed. */
  private afterCommit(work: () => Promise<unknown>): Promise<void> {
    this.pending.push(work);
    return Promise.resolve();
  }

  /** Runs followJourneys and then what it left to do after commit, until the outbox is quiet. */
  async followAll(): Promise<number> {
    // One at a time in this process (a timer may fire while the last round still runs).
    if (this.following) return this.following;
    this.following = (async (): Promise<number> => {
      let total = 0;
      try {
        for (;;) {
          const seen = await this.followJourneys();
          const work = this.pending.splice(0);
          for (const w of work) await w();
          // A round that moved a bag (or issued its discharge passport) wrote journey events.
          if (seen > 0 || work.length > 0) this.options.onEvents?.();
          total += seen;
          if (seen === 0 && work.length === 0) return total;
        }
      } finally {
        this.following = undefined;
      }
    })();
    return this.following;
  }

  private following: Promise<number> | undefined;

  private async expectedDischarge(db: SqlClient, encounterId: string): Promise<string | undefined> {
    const rows = await db.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE resource_type = 'Encounter' AND id = $1`, [encounterId]);
    const encounter = rows.rows[0] ? (JSON.parse(rows.rows[0].content) as Encounter) : undefined;
    return encounter?.extension?.find((e) => e.url === PLANNED_END_EXTENSION)?.valueDateTime;
  }

  /**
   * The person's red bags, journeys and passport versions for this reader. With `audited` (the API,
   * the red bag page) the read is audited and a reader who may not open passports is refused (403);
   * without it (the record page's link, whose read is audited as the record's) they get none.
   * `decided` is the decision the caller already took for this requester and patient (the record
   * page's, CaldicottAccess.decide for the same two), so it is not taken again.
   */
  async bagsFor(requester: Requester, patientId: string, options: { readonly audited?: { readonly requestId: string }; readonly decided?: PersonAccess } = {}): Promise<BagSummary[]> {
    const { audited, decided } = options;
    if (decided && !decided.personIds.includes(patientId)) throw new Error('bagsFor: the decision given is not for this patient');
    const { decision, personIds } = decided ?? (await this.options.decide(requester, patientId));
    const audit = (outcome: 'permit' | 'deny', reasons: string[], entities: string[] = []): Promise<unknown> =>
      audited ? this.options.audit({ requestId: audited.requestId, requester, operation: AuditOperation.PASSPORT_READ, outcome, patientIds: [patientId], entities, reasons }) : Promise.resolve();
    if (decision.needsPermissionToView || !mayOpenPassport(decision)) {
      if (!audited) return [];
      await audit('deny', [decision.needsPermissionToView ? 'permission to view not recorded' : 'passports are not shown to this role without a relationship']);
      throw new HttpOutcomeError(403, 'forbidden', decision.needsPermissionToView ? 'Record whether the person gave permission to view their record first' : 'You may not see this person\'s passports');
    }
    const bags = await bagsOfPerson(this.db, personIds);
    const versions = await versionsOfBags(this.db, bags.map((b) => b.id));
    await audit('permit', ['red bags and passport versions listed'], bags.map((b) => `red-bag/${b.id}`));
    return bags.map((bag) => ({ bag, versions: versions.filter((v) => v.redBagId === bag.id) }));
  }

  /** The copy of a passport version this reader may have: checked, signed on its own when anything is withheld, recorded, audited. */
  async readerDocument(request: { passportId: string; version?: number; requester: Requester; requestId: string }): Promise<ReaderDocument> {
    const issued = await getPassport(this.db, request.passportId, request.version);
    if (!issued) throw new HttpOutcomeError(404, 'not-found', 'There is no such passport');
    const { decision } = await this.options.decide(request.requester, issued.patientId);
    const audit = (outcome: 'permit' | 'deny', reasons: string[], entities: string[] = []): Promise<unknown> =>
      this.options.audit({ requestId: request.requestId, requester: request.requester, operation: AuditOperation.PASSPORT_READ, outcome, patientIds: [issued.patientId], entities, reasons });
    if (decision.needsPermissionToView) {
      await audit('deny', ['permission to view not recorded']);
      throw new HttpOutcomeError(403, 'forbidden', 'Record whether the person gave permission to view their record first');
    }
    if (!mayOpenPassport(decision)) {
      await audit('deny', [...decision.reasons.slice(-1), 'passports are not shown to this role without a relationship']);
      throw new HttpOutcomeError(403, 'forbidden', 'You may not see this person\'s passports');
    }
    const audience = ROLE_AUDIENCE[request.requester.role ?? ''] ?? request.requester.role ?? 'reader';
    const copy = readerCopy(issued.document, (r) => passportEntryWithheld(decision, r) !== undefined, audience);
    const bundle = copy.copy ? await this.sign(copy.bundle, issued.issuedAt) : copy.bundle;
    const fingerprint = passportFingerprint(bundle);
    if (copy.copy) await recordCopy(this.db, { fingerprint, passportId: issued.id, version: issued.version, copy: copy.copy, audience, withheldSections: copy.withheldSections, issuedTo: request.requester.userId, now: this.now() });
    const latest = await latestVersion(this.db, issued.id);
    await audit('permit', [`${issued.kind} version ${String(issued.version)}${copy.withheldEntries > 0 ? `, ${String(copy.withheldEntries)} entries withheld in ${copy.withheldSections.join(', ')}` : ''}`], [`Bundle/${bundle.id ?? ''}`]);
    const alerts = passportAlerts(decision, (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])));
    if (alerts.length > 0) await this.options.alert?.({ requester: request.requester, patientId: issued.patientId, requestId: request.requestId, alerts });
    return { bundle, fingerprint, view: passportView(bundle, fingerprint), latestVersion: latest, withheldSections: copy.withheldSections };
  }

  /** For the verification page and POST /passport/verify: whether a document identifier or fingerprint is one we issued, and whether it is current. No clinical content. */
  async lookup(identifierValue: string): Promise<{ current: boolean; version: number; latestVersion: number; issuedAt: string; issuedBy: string } | undefined> {
    const parsed = parseDocumentIdentifier(identifierValue);
    if (!parsed) return undefined;
    const issued = await getPassport(this.db, parsed.passportId, parsed.version);
    if (!issued) return undefined;
    const latest = await latestVersion(this.db, parsed.passportId);
    return { current: latest === issued.version, version: issued.version, latestVersion: latest, issuedAt: issued.issuedAt, issuedBy: issued.issuedBy };
  }

  /** What a printed copy's fingerprint is, for the QR code's page: no clinical content. */
  async lookupFingerprint(passportId: string, version: number, fingerprint: string): Promise<{ known: boolean; current: boolean; latestVersion: number; issuedAt?: string; issuedBy?: string; audience?: string; kind?: PassportKind }> {
    const found = /^[a-f0-9]{16,64}$/.test(fingerprint) ? await findFingerprintPrefix(this.db, fingerprint) : undefined;
    const issued = await getPassport(this.db, passportId, version);
    const latest = issued ? await latestVersion(this.db, passportId) : 0;
    if (!issued || !found || found.passportId !== passportId || found.version !== version) return { known: false, current: false, latestVersion: latest };
    return { known: true, current: latest === version, latestVersion: latest, issuedAt: issued.issuedAt, issuedBy: issued.issuedBy, kind: issued.kind, ...(found.audience ? { audience: found.audience } : {}) };
  }

  async bag(id: string): Promise<RedBagRow | undefined> {
    return getBag(this.db, id);
  }
}

/** A printed page carries the first 16 hex characters of the fingerprint. */
async function findFingerprintPrefix(db: SqlClient, prefix: string): Promise<{ passportId: string; version: number; copy: string; audience?: string } | undefined> {
  if (prefix.length === 64) return findByFingerprint(db, prefix);
  const rows = await db.query<{ fingerprint: string }>(
    `SELECT fingerprint FROM passport WHERE fingerprint LIKE $1 UNION ALL SELECT fingerprint FROM passport_copy WHERE fingerprint LIKE $1 LIMIT 2`,
    [`${prefix}%`],
  );
  return rows.rows.length === 1 && rows.rows[0] ? findByFingerprint(db, rows.rows[0].fingerprint) : undefined;
}

export type { Journey, PassportVersionSummary, RedBagRow };
