import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { SqlClient } from '../gateway/store/engine';

/**
 * CPU time of the processes a benchmark round keeps busy, from /proc (Linux): this process (the
 * server), and a local PostgreSQL's postmaster with all its children (backends, WAL writer,
 * checkpointer). Used to say where the cores went under load, not only how long requests took.
 * A backend that exits during a round takes its CPU time with it, so the database's figure is a
 * lower bound; with the pool's connections open throughout a round, little is lost.
 */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface ProcStat {
  readonly ppid: number;
  readonly cpuMs: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // After "pid (comm) ": state ppid ... utime (14) stime (15); comm may hold spaces, so split after its ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuMs: ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000 };
  } catch {
    return undefined;
  }
}

/** CPU ms of `root` and its direct children (a postmaster's processes are all its children). */
export function treeCpuMs(root: number): number {
  let total = procStat(root)?.cpuMs ?? 0;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === root) continue;
    const stat = procStat(pid);
    if (stat?.ppid === root) total += stat.cpuMs;
  }
  return total;
}

/** The postmaster of the server `db` talks to, when it runs on this machine and /proc shows it. */
export async function localPostmaster(db: SqlClient): Promise<number | undefined> {
  const backend = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
  const ppid = backend === undefined ? undefined : procStat(backend)?.ppid;
  if (ppid === undefined) return undefined;
  try {
    return readFileSync(`/proc/${String(ppid)}/comm`, 'utf8').trim().startsWith('postgres') ? ppid : undefined;
  } catch {
    return undefined;
  }
}

export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
