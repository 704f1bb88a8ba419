import type { Resource } from '@medplum/fhirtypes';
import { GP_INBOX_KIND, gpInboxHandler } from '../../gateway/gp/apply';
import { GpIntake } from '../../gateway/gp/intake';
import { processInboxItem } from '../../gateway/ingest/inbox-processor';
import { createLogger } from '../../gateway/logger';
import type { InboxQueue } from '../../gateway/queue/inbox-queue';
import { parseStoredResource } from '../../gateway/store/resource-reader';
import type { Store } from '../../gateway/store/store';
import { gpFixture } from './fixtures';

/** A queue that remembers what was enqueued; the test applies the rows itself, in the order it wants. */
export class RecordingQueue implements InboxQueue {
  readonly ids: string[] = [];
  enqueue(id: string): Promise<void> {
    this.ids.push(id);
    return Promise.resolve();
  }
  depth(): Promise<number> {
    return Promise.resolve(this.ids.length);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function gpIntakeFor(store: Store, queue: InboxQueue = new RecordingQueue()): GpIntake {
  return new GpIntake({ store, queue, logger: createLogger('silent') });
}

/** Receives a bundle and applies it at once, as the worker would; returns the inbox id. */
export async function importBundle(store: Store, bundle: unknown): Promise<string> {
  const received = await gpIntakeFor(store).receive(Buffer.from(JSON.stringify(bundle)));
  if (!received.inboxId) throw new Error(`refused: ${JSON.stringify(received.outcome)}`);
  const result = await processInboxItem(store, received.inboxId, { [GP_INBOX_KIND]: gpInboxHandler() });
  if (result !== 'done' && result !== 'skipped') throw new Error(`not applied: ${result}`);
  return received.inboxId;
}

type Entry = { resource: Record<string, unknown> & { resourceType: string; id: string } };
export type Stu3BundleJson = { entry: Entry[]; [k: string]: unknown };

/** A fixture bundle as a mutable copy. */
export function bundleCopy(name: string): Stu3BundleJson {
  return structuredClone(gpFixture(name)) as Stu3BundleJson;
}

/** Sets every List.date: the time the record stands at. */
export function atTime(bundle: Stu3BundleJson, date: string): Stu3BundleJson {
  for (const e of bundle.entry) if (e.resource.resourceType === 'List') e.resource['date'] = date;
  return bundle;
}

/** Removes a resource and every List entry pointing at it. */
export function without(bundle: Stu3BundleJson, ref: string): Stu3BundleJson {
  bundle.entry = bundle.entry.filter((e) => `${e.resource.resourceType}/${e.resource.id}` !== ref);
  for (const e of bundle.entry) {
    if (e.resource.resourceType !== 'List') continue;
    const entries = (e.resource['entry'] as { item: { reference: string } }[] | undefined) ?? [];
    e.resource['entry'] = entries.filter((x) => x.item.reference !== ref);
  }
  return bundle;
}

export async function storedByIdentifier<T extends Resource>(store: Store, type: T['resourceType'], value: string): Promise<T[]> {
  const rows = await store.engine.query<{ content: string }>(
    `SELECT r.content::text AS content FROM resource r JOIN sp_token t ON t.resource_type = r.resource_type AND t.resource_id = r.id WHERE r.resource_type = $1 AND t.code = 'identifier' AND t.value = $2`,
    [type, value],
  );
  return rows.rows.map((r) => parseStoredResource(r.content) as T);
}

export async function versionCount(store: Store, type: string, id: string): Promise<number> {
  const rows = await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM resource_history WHERE resource_type = $1 AND id = $2', [type, id]);
  return rows.rows[0]?.n ?? 0;
}
