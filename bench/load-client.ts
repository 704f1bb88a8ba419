import { Agent, request } from 'node:http';

/**
 * The HTTP load generator, run as its own process (forked by api-bench.ts) so its work is not on
 * the server's event loop; on a small machine it still shares the CPU cores with the server.
 * `connections` clients each send one request at a time over their own keep-alive connection,
 * (with a pause of `thinkMs` ± 50% between a response and the next request, when set), until `maxRequests` are
 * done or `maxMs` have passed, after an unmeasured warm-up.
 */
export interface LoadPlan {
  readonly baseUrl: string;
  readonly paths: readonly string[];
  readonly connections: number;
  readonly maxRequests: number;
  readonly maxMs: number;
  readonly warmupMs: number;
  /** The Authorization header every request carries. */
  readonly authorization?: string;
  /** The Accept header (default application/fhir+json). */
  readonly accept?: string;
  /** Cookie headers, one per client (client i sends cookies[i % length]): signed-in viewer sessions. */
  readonly cookies?: readonly string[];
  /** A pause after each response before the client's next request (a user reading the page); none by default. */
  readonly thinkMs?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly ms: number;
  /** Every request's latency in ms, in completion order: until the whole response was received. */
  readonly latenciesMs: number[];
  /** The same requests' time to the response's first byte (status line and headers parsed), in ms. */
  readonly firstByteMs: number[];
  /** Response body bytes received, in all. */
  readonly bytes: number;
  /** Requests sent in the unmeasured warm-up before these (so a server can divide its own counters). */
  readonly warmupRequests: number;
}

interface Answer {
  readonly status: number;
  /** process.hrtime.bigint() when the response's head had arrived. */
  readonly firstByteAt: bigint;
  readonly bytes: number;
}

function get(agent: Agent, url: URL, headers: Readonly<Record<string, string>>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const firstByteAt = process.hrtime.bigint();
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, firstByteAt, bytes });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function drive(agent: Agent, plan: LoadPlan, maxRequests: number, maxMs: number): Promise<Omit<LoadResult, 'warmupRequests'>> {
  const urls = plan.paths.map((p) => new URL(p, plan.baseUrl));
  const latenciesMs: number[] = [];
  const firstByteMs: number[] = [];
  let bytes = 0;
  let issued = 0;
  let errors = 0;
  const headersOf = (client: number): Record<string, string> => {
    const cookie = plan.cookies?.length ? plan.cookies[client % plan.cookies.length] : undefined;
    return { accept: plan.accept ?? 'application/fhir+json', ...(plan.authorization ? { authorization: plan.authorization } : {}), ...(cookie ? { cookie } : {}) };
  };
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(maxMs * 1e6));
  const think = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, (plan.thinkMs ?? 0) * (0.5 + Math.random())));
  const client = async (n: number): Promise<void> => {
    const headers = headersOf(n);
    // Paced clients start spread over one think time, as users do not click in unison.
    if (plan.thinkMs) await new Promise((resolve) => setTimeout(resolve, ((plan.thinkMs ?? 0) * n) / plan.connections));
    while (issued < maxRequests && process.hrtime.bigint() < deadline) {
      const url = urls[issued % urls.length] as URL;
      issued++;
      const t = process.hrtime.bigint();
      const answer = await get(agent, url, headers).catch((): Answer => ({ status: 0, firstByteAt: process.hrtime.bigint(), bytes: 0 }));
      latenciesMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      firstByteMs.push(Number(answer.firstByteAt - t) / 1e6);
      bytes += answer.bytes;
      if (answer.status !== 200) errors++;
      if (plan.thinkMs) await think();
    }
  };
  await Promise.all(Array.from({ length: plan.connections }, (_, n) => client(n)));
  return { requests: latenciesMs.length, errors, ms: Number(process.hrtime.bigint() - started) / 1e6, latenciesMs, firstByteMs, bytes };
}

export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: plan.connections });
  try {
    const warmup = plan.warmupMs > 0 ? await drive(agent, plan, Number.MAX_SAFE_INTEGER, plan.warmupMs) : undefined;
    return { ...(await drive(agent, plan, plan.maxRequests, plan.maxMs)), warmupRequests: warmup?.requests ?? 0 };
  } finally {
    agent.destroy();
  }
}

// Forked by api-bench.ts: one plan in over IPC, one result out.
if (require.main === module && process.send) {
  process.once('message', (plan: LoadPlan) => {
    void runLoad(plan).then(
      (result) => {
        process.send?.(result, () => process.disconnect());
      },
      (err: unknown) => {
        process.send?.({ error: String(err) }, () => process.disconnect());
      },
    );
  });
}
