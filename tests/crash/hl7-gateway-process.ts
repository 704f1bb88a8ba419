/**
 * Starting, killing and stopping the gateway child (hl7-gateway.ts) for the HL7v2 crash test.
 * The child is node itself with tsx's loader (one process), so SIGKILL kills the gateway, not a
 * wrapper around it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const GATEWAY = join(__dirname, 'hl7-gateway.ts');

export class GatewayProcess {
  private stderr = '';
  private expectedExit = false;
  readonly exited: Promise<NodeJS.Signals | number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly mllpPort: number,
    readonly httpPort: number,
    exited: Promise<NodeJS.Signals | number | null>,
    /** Called if the gateway exits without being told to: a crash of its own is a finding. */
    onUnexpectedExit: (detail: string) => void,
  ) {
    this.exited = exited;
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    void exited.then((how) => {
      if (!this.expectedExit) onUnexpectedExit(`gateway exited on its own (${String(how)}): ${this.stderr.slice(-2000)}`);
    });
  }

  /** Starts a gateway on the store named by env (DATA_DIR or DATABASE_URL) and resolves once it listens. */
  static async start(env: NodeJS.ProcessEnv, onUnexpectedExit: (detail: string) => void): Promise<GatewayProcess> {
    const nodeOptions = (process.env['NODE_OPTIONS'] ?? '').replace('--experimental-vm-modules', '');
    const child = spawn(process.execPath, ['--import', 'tsx', GATEWAY], {
      env: { ...process.env, NODE_OPTIONS: nodeOptions, LOG_LEVEL: 'silent', PORT: '0', MLLP_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    let stderr = '';
    const onStderr = (d: Buffer): void => {
      stderr += d.toString();
    };
    child.stderr.on('data', onStderr);
    const ports = await new Promise<{ mllp: number; http: number }>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const m = /ready mllp=(\d+) http=(\d+)/.exec(buffered);
        if (m) resolve({ mllp: Number(m[1]), http: Number(m[2]) });
      });
      void exited.then((how) => reject(new Error(`gateway exited before it was ready (${String(how)}): ${stderr.slice(-2000)}`)));
    });
    child.stderr.off('data', onStderr);
    return new GatewayProcess(child, ports.mllp, ports.http, exited, onUnexpectedExit);
  }

  /** SIGKILL, optionally after freezing it (SIGSTOP) for a while, as a hung host would; resolves once it is gone. */
  async kill(options: { freezeMs?: number } = {}): Promise<void> {
    this.expectedExit = true;
    if (options.freezeMs !== undefined) {
      this.child.kill('SIGSTOP');
      await sleep(options.freezeMs);
    }
    this.child.kill('SIGKILL');
    const how = await this.exited;
    if (how !== 'SIGKILL') throw new Error(`gateway ended with ${String(how)}, not SIGKILL`);
  }

  /** Graceful stop (SIGTERM), killed if it takes longer than `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    this.expectedExit = true;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
