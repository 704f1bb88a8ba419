import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A local OpenID provider for the viewer's sign-in tests: the real `oidc-provider` in a child
 * process (oidc-idp-process.mjs) behind a loopback proxy that is its public address (its issuer).
 * The proxy passes everything through unchanged, except that a test may rewrite the token
 * endpoint's answer (`tamperTokenResponse`), to hand the viewer ID tokens a broken or malicious
 * provider would: signed by another key, `alg: none`, another audience or nonce, expired. The test
 * holds the provider's signing key, so such tokens can otherwise be perfectly valid.
 */
export interface TestIdpOptions {
  /** Client registrations (oidc-provider client metadata). */
  readonly clients: readonly Record<string, unknown>[];
  /** Logins and the claims each account has (besides `sub`, which is the login). */
  readonly accounts: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly idTokenSeconds?: number;
}

export type TokenResponse = Record<string, unknown>;

export interface TestIdp {
  /** The issuer identifier: the proxy's address. */
  readonly issuer: string;
  /** The provider's ID token signing key (ES256). */
  readonly signingKey: { readonly privateKey: KeyObject; readonly kid: string };
  tamperTokenResponse(tamper: ((response: TokenResponse) => Promise<TokenResponse>) | undefined): void;
  close(): Promise<void>;
}

const PROCESS_SCRIPT = join(__dirname, 'oidc-idp-process.mjs');

/** A port nothing listens on now (the gateway's, so its redirect URI can be registered before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export async function startTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'test-idp-es256';
  let upstreamPort = 0;
  let tamper: ((response: TokenResponse) => Promise<TokenResponse>) | undefined;

  const proxy: Server = createServer((req, res) => {
    void (async (): Promise<void> => {
      const body = await collect(req);
      const upstream = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers });
      upstream.on('error', () => {
        res.statusCode = 502;
        res.end();
      });
      upstream.on('response', (answer) => {
        void (async (): Promise<void> => {
          const content = await collect(answer);
          const headers: IncomingHttpHeaders = { ...answer.headers };
          let out = content;
          if (tamper && req.method === 'POST' && req.url === '/token' && answer.statusCode === 200) {
            out = Buffer.from(JSON.stringify(await tamper(JSON.parse(content.toString('utf8')) as TokenResponse)));
            headers['content-length'] = String(out.length);
          }
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(out);
        })();
      });
      upstream.end(body);
    })();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${String((proxy.address() as AddressInfo).port)}`;

  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  const config = { issuer, jwks: { keys: [jwk] }, clients: options.clients, accounts: options.accounts, idTokenSeconds: options.idTokenSeconds };
  const child: ChildProcess = spawn(process.execPath, [PROCESS_SCRIPT], { env: { ...process.env, CAREBRIDGE_TEST_IDP: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  upstreamPort = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`the test identity provider exited (${String(code)}): ${stderr}`)));
  });

  return {
    issuer,
    signingKey: { privateKey, kid },
    tamperTokenResponse(next) {
      tamper = next;
    },
    async close() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

/**
 * A browser without scripts, over fetch: follows redirects itself and keeps cookies per origin
 * (host and port: the gateway and the provider share 127.0.0.1), so each step can be looked at.
 */
export class CookieBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).origin)?.get(name);
  }

  setCookie(url: string, name: string, value: string): void {
    const origin = new URL(url).origin;
    const cookies = this.jar.get(origin) ?? new Map<string, string>();
    cookies.set(name, value);
    this.jar.set(origin, cookies);
  }

  /** One request, no redirect followed; cookies sent and kept. */
  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<{ status: number; location?: string; html: string; setCookies: string[]; url: string }> {
    const origin = new URL(url).origin;
    const cookies = [...(this.jar.get(origin) ?? new Map<string, string>()).entries()].map(([n, v]) => `${n}=${v}`).join('; ');
    const headers: Record<string, string> = { accept: 'text/html', ...(cookies ? { cookie: cookies } : {}), ...init.headers };
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['origin'] = origin;
    }
    const res = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), redirect: 'manual', headers, ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}) });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const eq = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, eq).trim();
      const value = (pair ?? '').slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()));
      const jar = this.jar.get(origin) ?? new Map<string, string>();
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
      this.jar.set(origin, jar);
    }
    const location = res.headers.get('location');
    return { status: res.status, ...(location ? { location: new URL(location, url).href } : {}), html: await res.text(), setCookies, url };
  }

  /** Requests and follows redirects (GET) until a page answers; every step's URL and status. */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ final: Awaited<ReturnType<CookieBrowser['request']>>; steps: { url: string; status: number }[] }> {
    const steps: { url: string; status: number }[] = [];
    let answer = await this.request(url, init);
    steps.push({ url, status: answer.status });
    for (let hops = 0; answer.location && hops < 20; hops++) {
      answer = await this.request(answer.location);
      steps.push({ url: answer.url, status: answer.status });
    }
    return { final: answer, steps };
  }
}

/** The first form of a page: its action (absolute) and hidden fields. */
export function formOf(html: string, base: string, index = 0): { action: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const form = forms[index];
  if (!form) throw new Error(`the page has no form ${String(index)}: ${html.slice(0, 500)}`);
  const action = /action="([^"]*)"/.exec(form[1] ?? '')?.[1] ?? '';
  const fields: Record<string, string> = {};
  for (const input of (form[2] ?? '').matchAll(/<input\b([^>]*)>/g)) {
    const attrs = input[1] ?? '';
    if (!/type="hidden"/.test(attrs)) continue;
    const name = /name="([^"]*)"/.exec(attrs)?.[1];
    if (name) fields[name] = (/value="([^"]*)"/.exec(attrs)?.[1] ?? '').replace(/&amp;/g, '&');
  }
  return { action: new URL(action.replace(/&amp;/g, '&'), base).href, fields };
}

type Answer = Awaited<ReturnType<CookieBrowser['request']>>;

/**
 * From an answer that sends the browser to the provider, through its login and consent pages (or
 * its cancel link), up to the redirect to `redirectUri`, which is returned (not followed).
 */
export async function loginAtProvider(browser: CookieBrowser, first: Answer, login: string, options: { redirectUri: string; cancel?: boolean }): Promise<string> {
  let answer = first;
  for (let step = 0; step < 20; step++) {
    if (answer.location) {
      if (answer.location.startsWith(options.redirectUri)) return answer.location;
      answer = await browser.request(answer.location);
    } else if (answer.html.includes('name="login"')) {
      if (options.cancel) {
        const abort = /href="([^"]*\/abort)"/.exec(answer.html)?.[1] ?? '';
        answer = await browser.request(new URL(abort, answer.url).href);
      } else {
        const form = formOf(answer.html, answer.url);
        answer = await browser.request(form.action, { form: { ...form.fields, login, password: 'not checked by the test provider' } });
      }
    } else if (answer.html.includes('value="consent"')) {
      const form = formOf(answer.html, answer.url);
      answer = await browser.request(form.action, { form: form.fields });
    } else {
      throw new Error(`unexpected page at the provider: ${String(answer.status)} ${answer.url} ${answer.html.slice(0, 300)}`);
    }
  }
  throw new Error('the provider never sent the browser back');
}
