import { InvalidArgumentError, type Command } from 'commander';
import { isValidNhsNumber, normaliseNhsNumber } from '../../mappings/identity/nhs-number';
import { ConfigError } from '../config';
import { GP_INBOX_KIND, gpInboxHandler, type GpApplyOutcome } from '../gp/apply';
import { GpIntake, GpReceiveStatus } from '../gp/intake';
import { GpConnectClient, loadGpConnectConfig } from '../gp/pull-client';
import { processInboxItem } from '../ingest/inbox-processor';
import { createLogger } from '../logger';
import { inboxEntry } from '../store/inbox';
import type { Store } from '../store/store';
import { withStore } from './open-store';

function nhsNumberOption(value: string): string {
  const digits = normaliseNhsNumber(value);
  if (!digits || !isValidNhsNumber(digits)) throw new InvalidArgumentError('not a valid NHS number (ten digits with a correct check digit)');
  return digits;
}

/** Nothing to queue: the command applies the row itself. */
const noQueue = { enqueue: (): Promise<void> => Promise.resolve(), depth: (): Promise<number> => Promise.resolve(0), close: (): Promise<void> => Promise.resolve() };

/** Counts and ids only: no name, and no NHS number but the one the user typed. */
export function formatFetchSummary(nhsNumber: string, inboxId: string, outcome: Partial<GpApplyOutcome>): string {
  if (outcome.superseded) return `The record held for NHS number ${nhsNumber} is newer than the one fetched; nothing changed (inbox ${inboxId}).\n`;
  return `Imported the GP record for NHS number ${nhsNumber} (inbox ${inboxId}): ${String(outcome.written ?? 0)} resources, ${String(outcome.changed ?? 0)} changed, ${String(outcome.ended ?? 0)} no longer in the GP record, ${String(outcome.leftAsWere ?? 0)} withheld and left as they were.\n`;
}

/** Fetches one patient's structured record from the configured provider and imports it through the inbox, as POST /intake/gp does. */
export async function fetchAndImport(store: Store, nhsNumber: string, client: GpConnectClient, providerOds: string): Promise<string> {
  const { bundle } = await client.fetchStructuredRecord(nhsNumber);
  const intake = new GpIntake({ store, queue: noQueue, logger: createLogger('silent') });
  const received = await intake.receive(bundle, { expectedOds: providerOds });
  if (!received.inboxId) {
    const reasons = received.outcome.issue.filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? ''}`);
    throw new Error(`The provider's bundle was refused:\n  ${reasons.join('\n  ')}`);
  }
  if (received.status === GpReceiveStatus.DUPLICATE) return `The same record was imported before (inbox ${received.inboxId}); nothing changed.\n`;
  const result = await processInboxItem(store, received.inboxId, { [GP_INBOX_KIND]: gpInboxHandler() }, { maxAttempts: 1 });
  const entry = await inboxEntry(store.engine, received.inboxId);
  if (result === 'failed' || result === 'dead') throw new Error(`The record could not be applied (inbox ${received.inboxId}): ${entry?.lastError ?? 'unknown reason'}`);
  return formatFetchSummary(nhsNumber, received.inboxId, (entry?.outcome ?? {}));
}

/**
 * `carebridge gp fetch --nhs-number N`: GP Connect Access Record: Structured, pulled from the
 * provider named by GP_CONNECT_BASE_URL (every clinical area, with the Spine headers and audit JWT).
 */
export function registerGpCommand(program: Command): void {
  const gp = program.command('gp').description('GP records (GP Connect Access Record: Structured)');
  gp.command('fetch')
    .description("fetch a patient's structured record from the configured GP Connect provider and import it")
    .requiredOption('--nhs-number <number>', 'the patient (traced NHS number)', nhsNumberOption)
    .action(async (options: { nhsNumber: string }) => {
      const config = loadGpConnectConfig();
      if (!config) throw new ConfigError('GP_CONNECT_BASE_URL is not set: set it to the provider\'s FHIR base URL, with GP_CONNECT_ODS_CODE, GP_CONNECT_FROM_ASID, GP_CONNECT_TO_ASID, GP_CONNECT_CONSUMER_ODS_CODE and GP_CONNECT_USER_ID');
      const client = new GpConnectClient(config);
      await withStore(async (store) => {
        process.stdout.write(await fetchAndImport(store, options.nhsNumber, client, config.providerOds));
      });
    });
}
