import { Agent, request } from 'node:http';

/**
 * The HTTP load generator, run as its own process (forked by api-bench.ts) so its work is not on
 * the server's event loop; on a small machine it still shares the CPU cores with the server.
 * `connections` clients each send one request at a time over their own keep-alive connection,
 * until `maxRequests` are done or `maxMs` have passed, after an unmeasured warm-up.
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
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly ms: number;
  /** Every request's latency in ms, in completion order. */
  readonly latenciesMs: number[];
}

function get(agent: Agent, url: URL, authorization: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { accept: 'application/fhir+json', ...(authorization ? { authorization } : {}) } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => {
        resolve(res.statusCode ?? 0);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function drive(agent: Agent, plan: LoadPlan, maxRequests: number, maxMs: number): Promise<LoadResult> {
  const urls = plan.paths.map((p) => new URL(p, plan.baseUrl));
  const latenciesMs: number[] = [];
  let issued = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(maxMs * 1e6));
  const client = async (): Promise<void> => {
    while (issued < maxRequests && process.hrtime.bigint() < deadline) {
      const url = urls[issued % urls.length] as URL;
      issued++;
      const t = process.hrtime.bigint();
      const status = await get(agent, url, plan.authorization).catch(() => 0);
      latenciesMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (status !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: plan.connections }, client));
  return { requests: latenciesMs.length, errors, ms: Number(process.hrtime.bigint() - started) / 1e6, latenciesMs };
}

export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: plan.connections });
  try {
    if (plan.warmupMs > 0) await drive(agent, plan, Number.MAX_SAFE_INTEGER, plan.warmupMs);
    return await drive(agent, plan, plan.maxRequests, plan.maxMs);
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
