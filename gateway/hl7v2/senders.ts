import { readFileSync } from 'node:fs';
import type { Hl7Header } from '../../adapters/hl7v2/types';
import { ConfigError } from '../config';

/**
 * What CareBridge knows about each hospital system that sends HL7v2: the source URI its records
 * live under, the time zone of its timestamps without an offset, whether its PAS traces every
 * patient against PDS (so its NHS numbers count as verified when PID-32 is empty), and the
 * processing id (MSH-11) it must send, and where its application acknowledgements go (enhanced mode,
 * MSH-16: `applicationAckAddress`, "host:port" of the sender's MLLP receiver). Data, not code: HL7_SENDERS_FILE names a JSON file
 * { "<MSH-4 facility>|<MSH-3 application>": { ... } }; unlisted senders get the defaults, and a
 * sender a directory system declares (`hl7Senders`) gets that system's source.
 */
export interface Hl7Sender {
  /** Stable key: MSH-4 facility and MSH-3 application. */
  readonly key: string;
  readonly source: string;
  readonly timeZone: string;
  readonly nhsNumberVerified: boolean;
  readonly processingId: string;
  /** host:port of the sender's MLLP receiver for application ACKs (enhanced mode); none when unset. */
  readonly applicationAckAddress?: { readonly host: string; readonly port: number };
}

export interface Hl7SenderDirectory {
  senderOf(header: Pick<Hl7Header, 'sendingApplication' | 'sendingFacility'>): Hl7Sender;
}

interface SenderEntry {
  source?: string;
  timeZone?: string;
  nhsNumberVerified?: boolean;
  processingId?: string;
  applicationAckAddress?: string;
}

const SAFE = /[^A-Za-z0-9._-]/g;

export function senderKey(header: Pick<Hl7Header, 'sendingApplication' | 'sendingFacility'>): string {
  return `${header.sendingFacility}|${header.sendingApplication}`;
}

export function defaultSourceUri(header: Pick<Hl7Header, 'sendingApplication' | 'sendingFacility'>): string {
  return `urn:carebridge:hl7v2:${header.sendingFacility.replace(SAFE, '_') || 'unknown'}:${header.sendingApplication.replace(SAFE, '_') || 'unknown'}`;
}

/** "host:port" (host a name, IPv4, or [IPv6]) as an address, or undefined when it is not one. */
export function parseAddress(value: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

export function senderDirectory(entries: Readonly<Record<string, SenderEntry>> = {}, defaults: { processingId?: string; timeZone?: string } = {}): Hl7SenderDirectory {
  const addresses = new Map<string, { host: string; port: number }>();
  for (const [key, entry] of Object.entries(entries)) {
    if (entry.applicationAckAddress !== undefined) {
      const address = typeof entry.applicationAckAddress === 'string' ? parseAddress(entry.applicationAckAddress) : undefined;
      if (!address) throw new ConfigError(`HL7 sender '${key}': applicationAckAddress must be "host:port" (the sender's MLLP receiver for application ACKs)`);
      addresses.set(key, address);
    }
    if (!key.includes('|')) throw new ConfigError(`HL7 sender '${key}' must be written 'FACILITY|APPLICATION' (MSH-4|MSH-3)`);
    if (entry.timeZone !== undefined) {
      try {
        new Intl.DateTimeFormat('en-GB', { timeZone: entry.timeZone });
      } catch {
        throw new ConfigError(`HL7 sender '${key}': unknown time zone '${entry.timeZone}'`);
      }
    }
  }
  return {
    senderOf(header) {
      const key = senderKey(header);
      const entry = entries[key] ?? {};
      return {
        key,
        source: entry.source ?? defaultSourceUri(header),
        timeZone: entry.timeZone ?? defaults.timeZone ?? 'Europe/London',
        nhsNumberVerified: entry.nhsNumberVerified ?? false,
        processingId: entry.processingId ?? defaults.processingId ?? 'P',
        ...(addresses.has(key) ? { applicationAckAddress: addresses.get(key) } : {}),
      };
    },
  };
}

/** A system the directory declares (gateway/auth/directory.ts): the MSH-4|MSH-3 senders it sends as, and the source its records are kept under. */
export interface DeclaredSenders {
  readonly name: string;
  readonly sourceUri: string;
  readonly hl7Senders: readonly string[];
}

/**
 * The senders as HL7_SENDERS_FILE gives them, with each sender a directory system declares kept
 * under that system's source (as its other intakes, its organisation and its name in the viewer
 * are). The file may repeat that source; a different one is refused at start, as one sender's
 * records must live under one source.
 */
export function loadSenderDirectory(env: NodeJS.ProcessEnv = process.env, declared: readonly DeclaredSenders[] = []): Hl7SenderDirectory {
  const file = env['HL7_SENDERS_FILE'];
  const processingId = env['HL7_PROCESSING_ID'] || undefined;
  if (processingId !== undefined && !['P', 'T', 'D'].includes(processingId)) throw new ConfigError('HL7_PROCESSING_ID must be P, T or D');
  const entries: Record<string, SenderEntry> = file ? readSendersFile(file) : {};
  for (const system of declared) {
    // A source is one space of patient numbers (a record's id is its source and its MRN): senders of
    // one facility (a trust's PAS and its ED system) share one, different facilities do not.
    const facilities = [...new Set(system.hl7Senders.map((key) => key.slice(0, key.indexOf('|'))))];
    if (facilities.length > 1) {
      throw new ConfigError(`The directory's system '${system.name}' declares HL7 senders of more than one facility (MSH-4: ${facilities.join(', ')}); its records share one source, so their patient numbers would collide: declare a system per facility`);
    }
    for (const key of system.hl7Senders) {
      const entry = entries[key] ?? {};
      if (entry.source !== undefined && entry.source !== system.sourceUri) {
        throw new ConfigError(`HL7 sender '${key}': HL7_SENDERS_FILE keeps its records under '${entry.source}', but the directory's system '${system.name}' says '${system.sourceUri}'; give one source (or leave it out of the file)`);
      }
      entries[key] = { ...entry, source: system.sourceUri };
    }
  }
  return senderDirectory(entries, { processingId });
}

function readSendersFile(file: string): Record<string, SenderEntry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`HL7_SENDERS_FILE ${file} could not be read as JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`HL7_SENDERS_FILE ${file} must hold a JSON object`);
  return { ...(parsed as Record<string, SenderEntry>) };
}
