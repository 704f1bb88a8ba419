import { InvalidArgumentError, type Command } from 'commander';
import { isValidNhsNumber, normaliseNhsNumber } from '../../mappings/identity/nhs-number';
import { ConfigError } from '../config';
import { loadPdsConfig, PdsClient } from '../identity/pds-client';
import { traceNhsNumbers, type TraceResult } from '../identity/pds-trace';
import { withStore } from './open-store';

function nhsNumberOption(value: string): string {
  const digits = normaliseNhsNumber(value);
  if (!digits || !isValidNhsNumber(digits)) throw new InvalidArgumentError('not a valid NHS number (ten digits with a correct check digit)');
  return digits;
}

function limitOption(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return limit;
}

/** Counts only: never a name, and no NHS number but the one the user typed. */
export function formatTraceSummary(result: TraceResult, nhsNumber?: string): string {
  const { counts } = result;
  const traced = Object.values(counts).reduce((a, b) => a + b, 0);
  const scope = nhsNumber === undefined ? '' : ` holding NHS number ${nhsNumber}`;
  if (traced === 0) return `No source records${scope} needed tracing (already traced, verified by their source, or none held).\n`;
  const records = traced === 1 ? 'record' : 'records';
  const lines = [
    `Traced ${traced} source ${records}${scope} against PDS: ${counts.verified} verified, ${counts.mismatch} mismatch, ${counts['not-found']} not found, ${counts.error} error.`,
    ...(result.reresolved > 0 ? [`Identity re-resolved for ${result.reresolved} whose verification changed.`] : []),
    ...(counts.error > 0 ? ['Lookups that failed are tried again after an hour.'] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * `carebridge pds trace`: verify NHS numbers by tracing source records against the Personal
 * Demographics Service (PDS_BASE_URL, PDS_ACCESS_TOKEN), as the background trace does.
 */
export function registerPdsCommand(program: Command): void {
  const pds = program.command('pds').description('Personal Demographics Service: verify NHS numbers by tracing them');

  pds
    .command('trace')
    .description('trace source records whose NHS number no source verified against PDS (number, birth date, family name) and record the outcome')
    .option('--nhs-number <number>', 'only the source records holding this NHS number', nhsNumberOption)
    .option('--limit <n>', 'at most this many records', limitOption, 100)
    .action(async (options: { nhsNumber?: string; limit: number }) => {
      const config = loadPdsConfig();
      if (!config) throw new ConfigError('PDS_BASE_URL is not set: set it to the PDS FHIR API base URL (for example https://int.api.service.nhs.uk/personal-demographics/FHIR/R4), and PDS_ACCESS_TOKEN to a bearer token if the endpoint needs one');
      const client = new PdsClient({ baseUrl: config.baseUrl, accessToken: config.accessToken });
      await withStore(async (store) => {
        const result = await traceNhsNumbers(store, client, { nhsNumber: options.nhsNumber, limit: options.limit });
        process.stdout.write(formatTraceSummary(result, options.nhsNumber));
      });
    });
}
