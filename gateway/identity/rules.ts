/**
 * Identity linking rules, pure: given every source record that could belong together, decide which
 * are one person and what needs a human to look at it. The NHS number with the date of birth is the
 * key; everything else is evidence. Decisions are recomputed from the whole set each time, so the
 * order in which sources arrive never changes the outcome.
 *
 *  - Same valid NHS number, verified by at least one of the two, same date of birth → linked.
 *  - Same valid NHS number and date of birth, neither verified → possible match: listed, not linked.
 *  - Same NHS number, different date of birth → conflict: not linked, listed with both sides.
 *  - Two records of one source with the same NHS number → conflict: neither is linked automatically.
 *  - An invalid or unverified number alone never links anything.
 *  - An admin's link joins two records, an admin's unlink keeps two records apart; both win over the rules.
 *  - A record a source merged into another (Patient.link replaced-by) follows its survivor.
 */

export interface SourceRecord {
  /** The source's own Patient resource id. */
  readonly patientId: string;
  /** The sending system (meta.source). */
  readonly source: string;
  /** Bare ten digits, or undefined when absent. */
  readonly nhsNumber?: string;
  /** Passes the modulus-11 check. */
  readonly nhsNumberValid: boolean;
  /** The source says it traced the number against PDS, or CareBridge did. */
  readonly verified: boolean;
  readonly birthDate?: string;
  /** Set when the source merged this record into another of its own records. */
  readonly mergedInto?: string;
}

export interface ManualDecision {
  readonly kind: 'link' | 'unlink';
  readonly a: string;
  readonly b: string;
}

export const ReviewKind = {
  POSSIBLE_MATCH: 'possible-match',
  CONFLICT_BIRTH_DATE: 'conflict-birth-date',
  CONFLICT_SAME_SOURCE: 'conflict-same-source',
} as const;
export type ReviewKind = (typeof ReviewKind)[keyof typeof ReviewKind];

export interface Review {
  readonly kind: ReviewKind;
  readonly nhsNumber: string;
  /** The two source records, sorted. */
  readonly a: string;
  readonly b: string;
  readonly reason: string;
}

export interface Person {
  /** Stable key of the person-level record: by NHS number and date of birth where linked by them. */
  readonly key: string;
  /** Source record ids, sorted. */
  readonly members: readonly string[];
}

export interface IdentityDecision {
  readonly persons: readonly Person[];
  readonly reviews: readonly Review[];
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

class UnionFind {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let root = x;
    while (this.parent.get(root) !== undefined && this.parent.get(root) !== root) root = this.parent.get(root) as string;
    this.parent.set(x, root);
    return root;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
}

function resolveSurvivor(record: SourceRecord, byId: ReadonlyMap<string, SourceRecord>): string {
  let current = record;
  const seen = new Set<string>();
  while (current.mergedInto && byId.has(current.mergedInto) && !seen.has(current.patientId)) {
    seen.add(current.patientId);
    current = byId.get(current.mergedInto) as SourceRecord;
  }
  return current.patientId;
}

export function decideIdentity(records: readonly SourceRecord[], manual: readonly ManualDecision[] = []): IdentityDecision {
  const byId = new Map(records.map((r) => [r.patientId, r]));
  const sorted = [...records].sort((x, y) => (x.patientId < y.patientId ? -1 : 1));
  const active = sorted.filter((r) => resolveSurvivor(r, byId) === r.patientId);
  const reviews = new Map<string, Review>();
  const addReview = (kind: ReviewKind, nhsNumber: string, x: string, y: string, reason: string): void => {
    const [a, b] = x < y ? [x, y] : [y, x];
    reviews.set(`${kind}|${a}|${b}`, { kind, nhsNumber, a, b, reason });
  };

  // Records of one source sharing a number are all suspect: none links automatically.
  const suspect = new Set<string>();
  const byNumber = new Map<string, SourceRecord[]>();
  for (const r of active) {
    if (!r.nhsNumber || !r.nhsNumberValid) continue;
    const list = byNumber.get(r.nhsNumber) ?? [];
    list.push(r);
    byNumber.set(r.nhsNumber, list);
  }
  const candidateEdges: [string, string][] = [];
  for (const [nhsNumber, group] of byNumber) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const x = group[i] as SourceRecord;
        const y = group[j] as SourceRecord;
        if (x.source === y.source) {
          suspect.add(x.patientId).add(y.patientId);
          addReview(ReviewKind.CONFLICT_SAME_SOURCE, nhsNumber, x.patientId, y.patientId, `Two records of ${x.source} carry the same NHS number`);
        } else if (x.birthDate !== y.birthDate) {
          addReview(ReviewKind.CONFLICT_BIRTH_DATE, nhsNumber, x.patientId, y.patientId, 'Same NHS number, different dates of birth');
        } else if (x.verified || y.verified) {
          candidateEdges.push([x.patientId, y.patientId]);
        } else {
          addReview(ReviewKind.POSSIBLE_MATCH, nhsNumber, x.patientId, y.patientId, 'Same NHS number and date of birth, neither verified');
        }
      }
    }
  }

  const forbidden = new Set(manual.filter((m) => m.kind === 'unlink').map((m) => pairKey(m.a, m.b)));
  const edges = [
    ...manual.filter((m) => m.kind === 'link').map((m): [string, string] => [m.a, m.b]),
    ...candidateEdges.filter(([a, b]) => !suspect.has(a) && !suspect.has(b)),
  ].filter(([a, b]) => byId.has(a) && byId.has(b) && !forbidden.has(pairKey(a, b)));

  const uf = new UnionFind();
  const members = new Map<string, Set<string>>();
  const membersOf = (root: string): Set<string> => members.get(root) ?? new Set([root]);
  for (const r of active) members.set(uf.find(r.patientId), new Set([r.patientId]));
  for (const [x, y] of edges) {
    const a = resolveSurvivor(byId.get(x) as SourceRecord, byId);
    const b = resolveSurvivor(byId.get(y) as SourceRecord, byId);
    const ra = uf.find(a);
    const rb = uf.find(b);
    if (ra === rb) continue;
    // An unlink is kept even against a chain of other links: refuse the join that would break it.
    const left = membersOf(ra);
    const right = membersOf(rb);
    const breaksUnlink = [...left].some((l) => [...right].some((r) => forbidden.has(pairKey(l, r))));
    if (breaksUnlink) continue;
    uf.union(ra, rb);
    const root = uf.find(ra);
    members.set(root, new Set([...left, ...right]));
    members.delete(root === ra ? rb : ra);
  }
  // Merged-away records join their survivor's person.
  for (const r of sorted) {
    const survivor = resolveSurvivor(r, byId);
    if (survivor !== r.patientId) membersOf(uf.find(survivor)).add(r.patientId);
  }

  const persons: Person[] = [];
  for (const group of members.values()) {
    const ids = [...group].sort();
    const keys = ids
      .map((id) => byId.get(id) as SourceRecord)
      .filter((r) => r.nhsNumber && r.nhsNumberValid && !suspect.has(r.patientId) && resolveSurvivor(r, byId) === r.patientId && (r.verified || ids.length > 1))
      .map((r) => `nhs:${r.nhsNumber as string}|${r.birthDate ?? ''}`)
      .sort();
    persons.push({ key: keys[0] ?? `record:${ids[0] as string}`, members: ids });
  }
  // Two persons kept apart by an admin's unlink can both qualify for one key: the first (by member id) keeps it.
  persons.sort((p, q) => ((p.members[0] as string) < (q.members[0] as string) ? -1 : 1));
  const taken = new Set<string>();
  for (const [i, p] of persons.entries()) {
    if (taken.has(p.key)) persons[i] = { key: `record:${p.members[0] as string}`, members: p.members };
    taken.add((persons[i] as Person).key);
  }
  persons.sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
  // A possible match already joined through a verified record needs no review.
  const personOf = new Map(persons.flatMap((p) => p.members.map((m) => [m, p.key] as const)));
  // A pair an admin has decided (link or unlink) is no longer waiting for review.
  const decided = new Set(manual.map((m) => pairKey(m.a, m.b)));
  const open = [...reviews.values()].filter((r) => !decided.has(pairKey(r.a, r.b)) && (r.kind !== ReviewKind.POSSIBLE_MATCH || personOf.get(r.a) !== personOf.get(r.b)));
  return { persons, reviews: open.sort((x, y) => (`${x.kind}${x.a}${x.b}` < `${y.kind}${y.a}${y.b}` ? -1 : 1)) };
}
