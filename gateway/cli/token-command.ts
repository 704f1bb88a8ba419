import type { Command } from 'commander';
import { loadAuthConfig } from '../auth/auth-config';
import { demoDirectory } from '../auth/authenticator';
import { devAuthDir, loadOrCreateDevKeyPair, mintToken } from '../auth/dev-keys';
import { loadDirectory } from '../auth/directory';
import { identityFromClaims } from '../auth/identity';
import { loadConfig } from '../config';

/**
 * `carebridge token`: a development token, signed with the key in DATA_DIR/dev-auth, for the demo
 * and for trying the API with curl. Works only while development auth is on (never with
 * NODE_ENV=production). The claims are checked against the directory before anything is printed,
 * so a token that would be refused is not minted.
 */
export interface TokenRequest {
  role?: string;
  org?: string;
  user?: string;
  team?: string[];
  group?: string[];
  worker?: string;
  purpose?: string;
  name?: string;
  system?: string;
  expiresIn?: number;
}

export class TokenCommandError extends Error {}

export async function mintDevelopmentToken(env: NodeJS.ProcessEnv, request: TokenRequest, now: Date = new Date()): Promise<string> {
  const config = loadConfig(env);
  if (config.production) throw new TokenCommandError('Development tokens are off with NODE_ENV=production: use tokens from your identity provider');
  if (env['DEV_AUTH'] === 'false') throw new TokenCommandError('Development tokens are off (DEV_AUTH=false): use tokens from your identity provider');
  const auth = loadAuthConfig(env, config);

  let claims: Record<string, unknown>;
  if (request.system !== undefined) {
    const personal = (['role', 'org', 'user', 'team', 'group', 'worker', 'purpose'] as const).filter((k) => request[k] !== undefined);
    if (personal.length > 0) throw new TokenCommandError(`--system cannot be combined with ${personal.map((k) => `--${k}`).join(', ')}`);
    claims = { sub: `system:${request.system}`, system: request.system };
  } else {
    const missing = (['role', 'org', 'user'] as const).filter((k) => request[k] === undefined);
    if (missing.length > 0 && !(missing.length === 1 && missing[0] === 'role' && (request.group ?? []).length > 0)) {
      throw new TokenCommandError(`A person's token needs ${missing.map((k) => `--${k}`).join(', ')} (or --system NAME for a source system)`);
    }
    claims = {
      sub: request.user,
      ...(request.name !== undefined ? { name: request.name } : {}),
      ...(request.role !== undefined ? { role: request.role } : {}),
      org: request.org,
      ...(request.team?.length ? { teams: request.team } : {}),
      ...(request.group?.length ? { groups: request.group } : {}),
      ...(request.worker !== undefined ? { worker: request.worker } : {}),
      ...(request.purpose !== undefined ? { purpose: request.purpose } : {}),
    };
  }
  const directory = auth.directoryFile ? loadDirectory(auth.directoryFile) : demoDirectory();
  const checked = identityFromClaims(claims, directory);
  if (!checked.ok) throw new TokenCommandError(`The gateway would refuse this token: ${checked.reason}`);

  const minutes = request.expiresIn ?? 480;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) throw new TokenCommandError('--expires-in must be a whole number of minutes from 1 to 1440');
  const keys = await loadOrCreateDevKeyPair(devAuthDir(auth.dataDir));
  return mintToken(keys, claims, { audience: auth.audience, expiresInSeconds: minutes * 60, now });
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print a development token (only while development auth is on; never with NODE_ENV=production)')
    .option('--role <role>', "a CareBridge role (gp, social_worker, …) or an identity provider's role code the directory maps (R8000)")
    .option('--org <org>', 'organisation: an ODS code, or system|value')
    .option('--user <id>', 'user id (the sub claim)')
    .option('--name <name>', 'display name')
    .option('--team <team>', 'team, system|value or a team code of the organisation (repeatable)', collect)
    .option('--group <group>', "a directory group the directory maps (repeatable), e.g. ASC-Team-Hospital-Discharge", collect)
    .option('--worker <id>', 'worker id as system|value')
    .option('--purpose <purpose>', 'purpose of use: TREAT (default), HOPERAT or PATADMIN')
    .option('--system <name>', 'a source system named in the directory, instead of a person')
    .option('--expires-in <minutes>', 'lifetime in minutes (default 480)', (v: string) => Number(v))
    .action(async (options: TokenRequest) => {
      try {
        process.stdout.write(`${await mintDevelopmentToken(process.env, options)}\n`);
      } catch (err) {
        if (!(err instanceof TokenCommandError)) throw err;
        process.stderr.write(`carebridge token: ${err.message}\n`);
        process.exitCode = 2;
      }
    });
}
