import { fork } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { createApp } from '../gateway/app';
import { createLogger } from '../gateway/logger';
import { Metrics } from '../gateway/metrics';
import type { Store } from '../gateway/store/store';
import { NHS_NUMBER_SYSTEM } from '../mappings/identity/nhs-number';
import type { LoadPlan, LoadResult } from './load-client';
import { Authenticator, demoDirectory, TokenVerifier } from '../gateway/auth';
import { generateDevKeyPair, mintToken } from '../gateway/auth/dev-keys';
import type { ResourceKey } from './lookup-paths';
import { summarise, type LatencySummary } from './stats';

/**
 * The real app (createApp: routing, request ids, metrics, access hooks, bundles) over a populated
 * store, on loopback, driven by a separate load-generator process.
 */
export interface ApiTiming extends LatencySummary {
  readonly requests: number;
  readonly errors: number;
  readonly ms: number;
  readonly perSecond: number;
}

export interface ApiResults {
  readonly connections: number;
  readonly read: ApiTiming;
  readonly searchByNhsNumber: ApiTiming;
}

export interface ApiPlan {
  readonly connections: number;
  readonly maxRequests: number;
  readonly maxMs: number;
  readonly warmupMs: number;
}

export function runLoadProcess(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'load-client.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.once('message', (message: LoadResult | { error: string }) => {
      settled = true;
      if ('error' in message) reject(new Error(`load generator failed: ${message.error}`));
      else resolve(message);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`load generator exited with ${String(code)} before reporting`));
    });
    child.send(plan);
  });
}

/** The app verifies a real ES256 token on every request, as in production (a bench key pair, a GP's token). */
async function benchAuth(): Promise<{ auth: Authenticator; authorization: string }> {
  const keys = await generateDevKeyPair();
  const verifier = await TokenVerifier.create({ issuer: 'https://idp.bench.invalid', audience: 'carebridge-bench', publicKeys: [{ kid: keys.kid, key: keys.publicKey }] });
  const token = await mintToken(keys, { sub: 'bench-reader', role: 'gp', org: 'Y90001' }, { issuer: 'https://idp.bench.invalid', audience: 'carebridge-bench', expiresInSeconds: 3600 });
  return { auth: new Authenticator(verifier, demoDirectory()), authorization: `Bearer ${token}` };
}

async function listen(store: Store): Promise<{ server: Server; baseUrl: string; authorization: string }> {
  const { auth, authorization } = await benchAuth();
  const app = createApp({ store, logger: createLogger('silent'), metrics: new Metrics(false), auth });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorization };
}

/** One request of each kind through the HTTP edge, checked, so the load measures correct answers. */
async function checkAnswers(baseUrl: string, authorization: string, read: ResourceKey, nhsNumber: readonly [string, string]): Promise<void> {
  const headers = { authorization };
  const readResponse = await fetch(`${baseUrl}/fhir/${read.resourceType}/${read.id}`, { headers });
  const resource = (await readResponse.json()) as Resource;
  if (readResponse.status !== 200 || resource.id !== read.id) throw new Error(`GET ${read.resourceType}/{id} answered ${readResponse.status}`);
  const searchResponse = await fetch(`${baseUrl}/fhir/Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhsNumber[0]}`)}`, { headers });
  const bundle = (await searchResponse.json()) as Bundle;
  const ids = (bundle.entry ?? []).map((e) => e.resource?.id);
  if (searchResponse.status !== 200 || ids.length !== 1 || ids[0] !== nhsNumber[1]) throw new Error(`Patient search by NHS number answered ${searchResponse.status} with ${ids.length} entries`);
}

function timing(result: LoadResult): ApiTiming {
  return { ...summarise(result.latenciesMs), requests: result.requests, errors: result.errors, ms: result.ms, perSecond: (result.requests / result.ms) * 1000 };
}

export async function benchApi(store: Store, reads: readonly ResourceKey[], nhsNumbers: readonly (readonly [string, string])[], plan: ApiPlan): Promise<ApiResults> {
  const { server, baseUrl, authorization } = await listen(store);
  try {
    await checkAnswers(baseUrl, authorization, reads[0] as ResourceKey, nhsNumbers[0] as readonly [string, string]);
    const readPaths = reads.map((k) => `/fhir/${k.resourceType}/${k.id}`);
    const searchPaths = nhsNumbers.map(([n]) => `/fhir/Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${n}`)}`);
    const read = await runLoadProcess({ baseUrl, paths: readPaths, authorization, ...plan });
    const search = await runLoadProcess({ baseUrl, paths: searchPaths, authorization, ...plan });
    return { connections: plan.connections, read: timing(read), searchByNhsNumber: timing(search) };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
