import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One temp directory per run holds everything the run puts on disk (the throw-away PostgreSQL's
 * data, the PGlite stores). The run removes it when it ends or fails; a watchdog process removes
 * it, stopping the PostgreSQL in it first, if this process dies without doing so: killed, or
 * force-killed by tsx on Ctrl-C because a long synchronous PGlite call kept it from answering.
 */
export interface RunDir {
  readonly path: string;
  /** Where a throw-away PostgreSQL keeps its data, for the watchdog to find it. */
  readonly postgresDataDir: string;
  remove(): void;
}

export function createRunDir(): RunDir {
  const path = mkdtempSync(join(tmpdir(), 'carebridge-bench-'));
  // Traversable (not listable) by the unprivileged user PostgreSQL runs as.
  chmodSync(path, 0o711);
  return {
    path,
    postgresDataDir: join(path, 'pg', 'data'),
    remove: () => {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

const WATCHDOG = `
pid="$1" dir="$2" data="$3" bin="$4"
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
if [ -n "$bin" ] && [ -f "$data/postmaster.pid" ]; then
  if [ "$(id -u)" = 0 ]; then runuser -u "$(stat -c %U "$data")" -- "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop
  else "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop; fi
fi
rm -rf "$dir"
`;

/** Starts the watchdog for this process; it exits on its own once this process is gone. */
export function watchRunDir(runDir: RunDir, postgresBin: string | undefined): void {
  const watchdog = spawn('sh', ['-c', WATCHDOG, 'carebridge-bench-watchdog', String(process.pid), runDir.path, runDir.postgresDataDir, postgresBin ?? ''], {
    detached: true,
    stdio: 'ignore',
    cwd: tmpdir(),
  });
  watchdog.unref();
}
