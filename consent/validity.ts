import type { AccessInput, AccessPolicy } from './types';

/**
 * How long a decision of decideAccess holds for the same input: the rules read the clock only by
 * comparing it with instants in the input (a period's start or end, a Consent's date, a grant's
 * start and expiry, a permission-to-view record's time), each shifted by at most one of the
 * policy's durations (recent contact, self-claim, break-glass, permission-to-view session). So the
 * decision cannot change before the earliest such instant, shifted by any of those durations,
 * that is still ahead, or the millisecond after it (a rule may compare with `<=`): that is what
 * this returns (undefined when there is none). It walks every string of the record, not only
 * the fields the rules read today, so a rule that starts reading another date is covered too. Any string Date.parse reads counts, as the rules parse with it
 * (stored data is not always conformant); one not meant as a date only makes a decision be looked
 * at again early.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Longer strings are narrative, not instants (a FHIR instant is at most 35 characters). */
const LONGEST_INSTANT = 64;

function offsetsOf(policy: AccessPolicy): number[] {
  return [0, policy.recentContactDays * DAY, policy.selfClaimHours * HOUR, policy.breakGlassHours * HOUR, policy.permissionToViewSessionHours * HOUR];
}

export function nextChange(input: AccessInput, now: Date, policy: AccessPolicy): number | undefined {
  const nowMs = now.getTime();
  const offsets = offsetsOf(policy);
  let next: number | undefined;
  const consider = (value: string): void => {
    if (value.length < 4 || value.length > LONGEST_INSTANT || !/\d/.test(value)) return;
    const t = Date.parse(value);
    if (Number.isNaN(t)) return;
    for (const offset of offsets) {
      // A rule comparing with `<` turns at the instant, one comparing with `<=` just after it.
      for (const at of [t + offset, t + offset + 1]) if (at > nowMs && (next === undefined || at < next)) next = at;
    }
  };
  const walk = (value: unknown): void => {
    if (typeof value === 'string') consider(value);
    else if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value !== null && typeof value === 'object') for (const inner of Object.values(value)) walk(inner);
  };
  walk(input.record);
  walk(input.grants ?? []);
  walk(input.permissionToView ?? []);
  return next;
}
