import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError } from '../../gateway/store/data-dir-lock';
import { Store } from '../../gateway/store/store';
import { describeStoreConformance } from './conformance';

// In memory: the same engine and SQL as the file-backed default, without the disk.
describeStoreConformance('PGlite', () => ({
  open: async () => {
    const store = await Store.open({});
    await store.migrate();
    return store;
  },
  dispose: () => Promise.resolve(),
}));

describe('PGlite data directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-pglite-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('a second store on the same directory is refused while the first is open, and allowed after', async () => {
    const first = await Store.open({ dataDir: dir });
    await expect(Store.open({ dataDir: dir })).rejects.toThrow(DataDirLockedError);
    await first.close();
    const second = await Store.open({ dataDir: dir });
    await second.close();
  });

  test('data written before close is there after reopening', async () => {
    const first = await Store.open({ dataDir: dir });
    await first.migrate();
    await first.upsert([{ resourceType: 'Patient', id: 'p1', gender: 'female' }]);
    await first.close();
    const second = await Store.open({ dataDir: dir });
    expect(await second.countResources()).toBe(1);
    await second.close();
  });
});
