import { CQC_LOCATION_SYSTEM } from '../../mappings/identifiers';
import { CARE_HOME_SOURCE_PREFIX } from '../../mappings/passport/codes';
import type { Directory } from './directory';

/** Display names from the directory: an organisation by id, and the organisation a source system's data belongs to. */
export interface SourceNames {
  readonly organisationName: (id: string | undefined) => string;
  readonly sourceName: (source: string | undefined) => string;
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).host || uri;
  } catch {
    return uri;
  }
}

export function sourceNames(directory: Directory): SourceNames {
  const organisationName = (id: string | undefined): string => (id ? (directory.organisation(id)?.name ?? id) : 'unknown organisation');
  const sourceName = (source: string | undefined): string => {
    // A care home's transfer form is recorded under a source of CareBridge's own, one per home (by CQC location).
    if (source?.startsWith(CARE_HOME_SOURCE_PREFIX)) {
      const home = directory.organisation(`${CQC_LOCATION_SYSTEM}|${decodeURIComponent(source.slice(CARE_HOME_SOURCE_PREFIX.length))}`);
      if (home) return home.name;
    }
    const system = directory.systems.find((s) => s.sourceUri === source);
    return system?.organisation ? organisationName(system.organisation) : (system?.displayName ?? (source ? hostOf(source) : 'unknown source'));
  };
  return { organisationName, sourceName };
}
