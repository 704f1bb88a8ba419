import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/**
 * A throw-away PostgreSQL for one benchmark run: initdb in a temp dir, listening on 127.0.0.1 and
 * a free port, with the shipped durability settings (fsync and synchronous_commit on), so the
 * figures mean what they would on a real server. PostgreSQL refuses to run as root, so as root it
 * runs as an unprivileged user made for the purpose.
 */
const BENCH_USER = 'carebridge-bench';
const DB_USER = 'carebridge';

export interface ThrowawayPostgres {
  readonly url: string;
  readonly version: string;
  stop(): void;
}

export class PostgresUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresUnavailableError';
  }
}

/** The newest /usr/lib/postgresql/<major>/bin holding initdb, pg_ctl and postgres. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d))
    .sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (['initdb', 'pg_ctl', 'postgres'].every((f) => existsSync(join(bin, f)))) return bin;
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

const isRoot = (): boolean => process.getuid?.() === 0;

function ensureBenchUser(): void {
  if (spawnSync('id', ['-u', BENCH_USER]).status === 0) return;
  const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', BENCH_USER], { encoding: 'utf8' });
  if (made.status !== 0) throw new PostgresUnavailableError(`cannot create the user ${BENCH_USER}: ${made.stderr.trim()}`);
}

function ownerIds(): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', BENCH_USER], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', BENCH_USER], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

/** Runs a PostgreSQL binary as the bench user (or as ourselves when not root), from the work dir. */
function runAs(workDir: string, command: string, args: string[]): SpawnSyncReturns<string> {
  const [file, argv] = isRoot() ? ['runuser', ['-u', BENCH_USER, '--', command, ...args]] : [command, args];
  return spawnSync(file, argv, { cwd: workDir, encoding: 'utf8', timeout: 120_000 });
}

/** Initialises and starts a server whose data lives in dataDir (its parent, the work dir, must not exist yet). */
export async function startThrowawayPostgres(bin: string, dataDir: string): Promise<ThrowawayPostgres> {
  if (isRoot()) ensureBenchUser();
  const workDir = dirname(dataDir);
  mkdirSync(workDir, { mode: 0o700 });
  const logFile = join(workDir, 'postgres.log');
  let started = false;
  const stop = (): void => {
    if (started) {
      const stopped = runAs(workDir, join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
      if (stopped.status !== 0) {
        // pg_ctl could not stop it: end that one postmaster by its pid, never by name.
        const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGKILL');
      }
      started = false;
    }
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    if (isRoot()) {
      const { uid, gid } = ownerIds();
      chownSync(workDir, uid, gid);
    }
    const init = runAs(workDir, join(bin, 'initdb'), ['-D', dataDir, '-U', DB_USER, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8']);
    if (init.status !== 0) throw new PostgresUnavailableError(`initdb failed: ${init.stderr.trim() || init.stdout.trim()}`);
    let port = 0;
    for (let attempt = 0; attempt < 3 && !started; attempt++) {
      // A port found free can be taken before the server binds it: try a few.
      port = await freePort();
      const start = runAs(workDir, join(bin, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${workDir}`, 'start']);
      started = start.status === 0;
    }
    if (!started) throw new PostgresUnavailableError(`PostgreSQL would not start: ${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : 'no log'}`);
    const version = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim();
    return { url: `postgres://${DB_USER}@127.0.0.1:${port}/postgres`, version, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
