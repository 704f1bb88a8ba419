import type { OperationOutcome } from '@medplum/fhirtypes';
import { parseGpBundle } from '../../adapters/gp-connect/parse';
import { mapGpBundle } from '../../mappings/gp/map-bundle';
import { toOperationOutcome } from '../../mappings/gp/issues';
import type { Logger } from '../logger';
import type { InboxQueue } from '../queue/inbox-queue';
import { acceptIntoInbox, inboxEntry, InboxStatus } from '../store/inbox';
import type { Store } from '../store/store';
import { bundleKey, GP_INBOX_KIND } from './apply';

/**
 * Receiving a GP Connect structured record (POST /intake/gp, `carebridge gp fetch`). The bundle is
 * checked first (parse and map, which is pure and fast): a refused bundle is answered at once
 * with the OperationOutcome and nothing is written. An accepted one is committed to the inbox
 * before the answer (202 Accepted with a status URL): it is then safe, and the worker applies it.
 * The same bytes again are the same inbox row: answered with its status, not applied twice.
 */
export const GpReceiveStatus = { ACCEPTED: 'accepted', DUPLICATE: 'duplicate', BAD_REQUEST: 'bad-request', UNPROCESSABLE: 'unprocessable' } as const;
export type GpReceiveStatus = (typeof GpReceiveStatus)[keyof typeof GpReceiveStatus];

export interface GpReceiveOutcome {
  readonly status: GpReceiveStatus;
  readonly outcome: OperationOutcome;
  readonly inboxId?: string;
  readonly source?: string;
}

export const INTAKE_STATUS_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/intake-status';

export class GpIntake {
  constructor(private readonly options: { store: Store; queue: InboxQueue; logger: Logger; now?: () => Date }) {}

  /** `expectedOds`: the practice the bundle must come from (the pull client's provider; an authenticated sender's ODS code). */
  async receive(content: Buffer, options: { expectedOds?: string } = {}): Promise<GpReceiveOutcome> {
    const receivedAt = (this.options.now?.() ?? new Date()).toISOString();
    const parsed = parseGpBundle(content);
    if (!parsed.ok) return { status: GpReceiveStatus.BAD_REQUEST, outcome: toOperationOutcome([{ severity: 'error', code: 'structure', expression: 'Bundle', text: parsed.error }]) };
    const key = bundleKey(content);
    const result = mapGpBundle(parsed.value, { receivedAt, bundleKey: key });
    if (!result.ok || !result.source) {
      const notABundle = result.issues.some((i) => i.severity === 'error' && i.expression === 'Bundle' && i.code === 'structure');
      this.options.logger.info({ errors: result.issues.filter((i) => i.severity === 'error').length }, 'GP Connect bundle refused');
      return { status: notABundle ? GpReceiveStatus.BAD_REQUEST : GpReceiveStatus.UNPROCESSABLE, outcome: toOperationOutcome(result.issues) };
    }
    if (options.expectedOds && result.ods?.toUpperCase() !== options.expectedOds.toUpperCase()) {
      return { status: GpReceiveStatus.UNPROCESSABLE, outcome: toOperationOutcome([{ severity: 'error', code: 'business-rule', expression: 'Bundle.entry', text: `The record's registered practice is not ${options.expectedOds}` }]) };
    }
    const accepted = await acceptIntoInbox(this.options.store.engine, { source: result.source, kind: GP_INBOX_KIND, dedupKey: key, content, outcome: { receivedAt } });
    const issues = result.issues.filter((i) => i.severity !== 'information');
    if (accepted.accepted === 'new') {
      await this.options.queue.enqueue(accepted.item.id);
      this.options.logger.info({ inboxId: accepted.item.id, source: result.source, resources: result.resources.length }, 'GP Connect bundle accepted');
      return { status: GpReceiveStatus.ACCEPTED, outcome: statusOutcome('pending', 'Accepted; the record will be applied shortly', issues), inboxId: accepted.item.id, source: result.source };
    }
    return { status: GpReceiveStatus.DUPLICATE, outcome: statusOutcome(accepted.item.status, 'The same bundle was received before', issues), inboxId: accepted.item.id, source: result.source };
  }

  /** The state of an accepted bundle, for GET /intake/gp/status/{id}; undefined for an id that is not a GP bundle. */
  async status(id: string): Promise<OperationOutcome | undefined> {
    const entry = await inboxEntry(this.options.store.engine, id);
    if (entry?.kind !== GP_INBOX_KIND) return undefined;
    const outcome = (entry.outcome ?? {}) as { superseded?: boolean; changed?: number; ended?: number; leftAsWere?: number };
    switch (entry.status) {
      case InboxStatus.DONE:
        return outcome.superseded
          ? statusOutcome('superseded', 'Not applied: a newer record from this practice for this patient was already imported')
          : statusOutcome('done', `Applied: ${String(outcome.changed ?? 0)} resources changed, ${String(outcome.ended ?? 0)} ended, ${String(outcome.leftAsWere ?? 0)} left as they were (withheld)`);
      case InboxStatus.PENDING:
      case InboxStatus.RETRY:
        return statusOutcome('pending', 'Waiting to be applied');
      case InboxStatus.FAILED:
        return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', details: { coding: [{ system: INTAKE_STATUS_SYSTEM, code: 'failed' }], text: entry.lastError ?? 'Could not be applied' } }] };
      case InboxStatus.DEAD:
        return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', details: { coding: [{ system: INTAKE_STATUS_SYSTEM, code: 'dead' }], text: 'Could not be applied after repeated attempts; the integration team has it in the dead-letter queue' } }] };
    }
  }
}

function statusOutcome(code: string, text: string, issues: Parameters<typeof toOperationOutcome>[0] = []): OperationOutcome {
  const extra = issues.length ? toOperationOutcome(issues).issue : [];
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { coding: [{ system: INTAKE_STATUS_SYSTEM, code }], text } }, ...extra] };
}
