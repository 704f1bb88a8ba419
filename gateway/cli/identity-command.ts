import type { Command } from 'commander';
import { listIdentityReviews, recordIdentityDecision, type ReviewItem } from '../identity/admin';
import { mergeSourceRecords, unmergeSourceRecords } from '../identity/merge';
import { ReviewKind } from '../identity/rules';
import { withStore } from './open-store';

const CONFLICTS = [ReviewKind.CONFLICT_BIRTH_DATE, ReviewKind.CONFLICT_SAME_SOURCE];

function printReviews(items: readonly ReviewItem[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return;
  }
  if (items.length === 0) {
    process.stdout.write('Nothing to review.\n');
    return;
  }
  for (const item of items) {
    process.stdout.write(`\n${item.kind}  NHS number ${item.nhsNumber}  (since ${item.firstSeen})\n  ${item.reason}\n`);
    for (const side of [item.a, item.b]) {
      process.stdout.write(`  - Patient/${side.patientId}  source ${side.source}  born ${side.birthDate ?? '?'}  name ${side.name ?? '?'}\n`);
    }
  }
  process.stdout.write(`\n${items.length} to review. Resolve with: carebridge identity link|unlink A B --reason "..." --by USER\n`);
}

/** `carebridge identity …`: the identity review list and an admin's decisions. Each decision is recorded with who and why. */
export function registerIdentityCommand(program: Command): void {
  const identity = program.command('identity').description('identity matching: conflicts, possible matches, manual link/unlink, merges');

  identity
    .command('conflicts')
    .description('list identity conflicts (same NHS number with different birth dates, or twice in one source), both sides shown')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withStore(async (store) => {
        printReviews(await listIdentityReviews(store.engine, CONFLICTS), options.json === true);
      });
    });

  identity
    .command('reviews')
    .description('list everything waiting for review: conflicts and possible matches')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withStore(async (store) => {
        printReviews(await listIdentityReviews(store.engine), options.json === true);
      });
    });

  for (const kind of ['link', 'unlink'] as const) {
    identity
      .command(`${kind} <patientA> <patientB>`)
      .description(kind === 'link' ? 'record that two source records are one person' : 'record that two source records are different people')
      .requiredOption('--reason <text>', 'why (kept with the decision)')
      .requiredOption('--by <user>', 'who decided')
      .action(async (a: string, b: string, options: { reason: string; by: string }) => {
        await withStore(async (store) => {
          const result = await recordIdentityDecision(store, { kind, a, b, reason: options.reason, decidedBy: options.by });
          const person = result.persons.find((p) => p.members.includes(a));
          process.stdout.write(`Recorded ${kind} of Patient/${a} and Patient/${b}. Patient/${a} is now with: ${person?.members.join(', ') ?? a}\n`);
        });
      });
  }

  identity
    .command('merge <mergedId> <survivorId>')
    .description("merge two records of one source (as an A40 would): references move to the survivor, nothing is deleted")
    .requiredOption('--reason <text>', 'why')
    .requiredOption('--by <user>', 'who decided')
    .action(async (mergedId: string, survivorId: string, options: { reason: string; by: string }) => {
      await withStore(async (store) => {
        const result = await mergeSourceRecords(store, { mergedId, survivorId, reason: options.reason, mergedBy: options.by });
        process.stdout.write(`Merged Patient/${mergedId} into Patient/${survivorId} (merge ${result.mergeId}); moved ${result.moved.length} resources\n`);
      });
    });

  identity
    .command('unmerge <mergedId>')
    .description('undo the standing merge of a record: moves back exactly what the merge moved')
    .action(async (mergedId: string) => {
      await withStore(async (store) => {
        const result = await unmergeSourceRecords(store, { mergedId });
        process.stdout.write(`Unmerged Patient/${mergedId}; moved back ${result.movedBack.length} resources\n`);
      });
    });
}
