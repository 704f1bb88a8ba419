import type { CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';

/**
 * Local expansion of the value sets UK Core binds, from the code systems we hold. A value set is
 * expandable when every include names enumerated concepts, a whole code system we hold, or
 * another expandable value set. Filters (SNOMED CT `is-a`, ECL) and code systems we do not hold
 * need a terminology server: such a value set is reported as not expandable and its binding is
 * not checked here (said so, not guessed).
 */

export interface Expansion {
  /** `system|code` of every member. */
  readonly codes: ReadonlySet<string>;
  /** Systems with at least one member. */
  readonly systems: ReadonlySet<string>;
}

export class Terminology {
  private readonly expansions = new Map<string, Expansion | undefined>();

  constructor(
    private readonly valueSets: ReadonlyMap<string, ValueSet>,
    private readonly codeSystems: ReadonlyMap<string, CodeSystem>,
  ) {}

  /** The value set's members, or undefined when it cannot be expanded locally. */
  expand(url: string): Expansion | undefined {
    const key = url.split('|')[0] ?? url;
    if (this.expansions.has(key)) return this.expansions.get(key);
    this.expansions.set(key, undefined); // cycle guard
    const expansion = this.compute(key);
    this.expansions.set(key, expansion);
    return expansion;
  }

  private compute(url: string): Expansion | undefined {
    const vs = this.valueSets.get(url);
    if (!vs?.compose?.include.length) return undefined;
    const codes = new Set<string>();
    for (const include of vs.compose.include) {
      const members = this.members(include);
      if (!members) return undefined;
      for (const m of members) codes.add(m);
    }
    for (const exclude of vs.compose.exclude ?? []) {
      const members = this.members(exclude);
      if (!members) return undefined;
      for (const m of members) codes.delete(m);
    }
    return { codes, systems: new Set([...codes].map((c) => c.slice(0, c.lastIndexOf('|')))) };
  }

  private members(include: NonNullable<ValueSet['compose']>['include'][number]): Set<string> | undefined {
    if (include.filter?.length) return undefined;
    let fromSystem: Set<string> | undefined;
    if (include.system) {
      if (include.concept?.length) {
        fromSystem = new Set(include.concept.map((c) => `${include.system ?? ''}|${c.code}`));
      } else {
        const cs = this.codeSystems.get(include.system);
        if (!cs) return undefined;
        fromSystem = new Set(allCodes(cs.concept).map((code) => `${include.system ?? ''}|${code}`));
      }
    }
    let result = fromSystem;
    for (const nested of include.valueSet ?? []) {
      const expansion = this.expand(nested);
      if (!expansion) return undefined;
      result = result ? new Set([...result].filter((c) => expansion.codes.has(c))) : new Set(expansion.codes);
    }
    return result;
  }
}

function allCodes(concepts: readonly CodeSystemConcept[] | undefined): string[] {
  return (concepts ?? []).flatMap((c) => [c.code, ...allCodes(c.concept)]);
}
