import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Argv } from 'yargs';
import { formatHostPort, parseHostPort } from '../../core/address.js';
import { parseDuration } from '../../core/duration.js';
import { YardError, errorMessage } from '../../core/errors.js';
import { checkOperatorName, ROLES, type Role } from '../../core/pki/roles.js';
import { printable, printableJson } from '../../core/printable.js';
import type { AccessGrant } from '../../gen/switchyard/v1/control.js';
import type { ControllerTarget } from '../client.js';
import { pathArg, withDataDir, withTarget } from '../options.js';
import { exitUsage } from './workloads.js';

/** What every command that asks the controller takes (`withTarget`). */
export interface TargetArgs {
  controller?: string;
  token?: string;
  tokenFile?: string;
  credential?: string;
  dataDir: string;
}

type Control = ReturnType<typeof import('../client.js')['controlClient']>;

/** Runs `use` with a client of the controller named by the flags, and closes it after. */
export async function withControl(
  argv: TargetArgs,
  use: (c: Control, target: ControllerTarget) => Promise<void>,
): Promise<void> {
  const { controlClient, findController } = await import('../client.js');
  const target = await findController(argv);
  const c = controlClient(target);
  try {
    await use(c, target);
  } finally {
    c.close();
  }
}

const DAY_MS = 86_400_000;
const LONG_UNITS: Record<string, number> = { d: DAY_MS, w: 7 * DAY_MS, y: 365 * DAY_MS };
/** The controller's own limit, said here first so a typo exits 2 before anything is issued. */
const MAX_EXPIRES_MS = 5 * 365 * DAY_MS;

/** "30d", "12h", "2w", "1y" (or what other duration flags take, e.g. "90s") → milliseconds. */
export function parseExpires(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([dwy])\s*$/.exec(text);
  let ms: number;
  try {
    ms = m ? Math.round(Number(m[1]) * LONG_UNITS[m[2]!]!) : parseDuration(text, '--expires');
  } catch {
    throw new YardError(
      'INVALID_ARGUMENT',
      `--expires "${text}" is not a lifetime: use e.g. 8h, 30d, 2w or 1y (at most 5 years)`,
    );
  }
  if (!(ms > 0) || ms > MAX_EXPIRES_MS)
    throw new YardError('INVALID_ARGUMENT', `--expires "${text}" must be more than 0 and at most 5 years (5y)`);
  return ms;
}

/**
 * The controller's address for the credential: where this CLI reached it over TCP, else where
 * it listens (a wildcard listen address is no place to dial: this host's name stands in).
 */
function controllerAddress(target: ControllerTarget, listen: string): { address: string; guessed: boolean } {
  if (!target.address.startsWith('unix:')) return { address: target.address, guessed: false };
  const hp = parseHostPort(listen, "the controller's listen address");
  if (hp.host !== '0.0.0.0' && hp.host !== '::') return { address: listen, guessed: false };
  return { address: formatHostPort({ host: hostname(), port: hp.port }), guessed: true };
}

interface GrantArgs extends TargetArgs {
  name: string;
  role: Role;
  expires?: string;
  out?: string;
  force: boolean;
}

const grantCommand = {
  command: 'grant <name>',
  describe: 'give an operator a credential with a role: one file with the certificate, its key and the CA',
  builder: (y: Argv) =>
    withTarget(y)
      .positional('name', { type: 'string', demandOption: true, describe: 'who it is for (e.g. alice or alice@noc)' })
      .option('role', {
        type: 'string',
        choices: ROLES,
        demandOption: true,
        describe:
          'viewer: read and watch; operator: also workloads, migrations, routes; admin: also access, tokens, servers',
      })
      .option('expires', { type: 'string', describe: 'how long it works, e.g. 8h, 30d, 1y (default 365d, at most 5y)' })
      .option('out', {
        type: 'string',
        describe: 'write the credential to this file, owner-only (default: standard output)',
        coerce: pathArg('out'),
      })
      .option('force', { type: 'boolean', default: false, describe: 'replace the --out file if it exists' })
      .example('$0 access grant alice --role operator --expires 30d --out alice.yard', '')
      .example('$0 access grant noc-wall --role viewer > wall.yard', ''),
  async handler(argv: GrantArgs) {
    let lifetimeMs = 0;
    try {
      checkOperatorName(argv.name);
      if (argv.expires !== undefined) lifetimeMs = parseExpires(argv.expires);
    } catch (err) {
      exitUsage('access grant', err);
    }
    // Said before anything is issued: a credential that cannot be written would only wait to be revoked.
    if (argv.out !== undefined && !argv.force && existsSync(argv.out))
      throw new YardError(
        'ALREADY_EXISTS',
        `${argv.out} already exists: give another --out, or --force to replace it`,
        {
          file: argv.out,
        },
      );
    const [{ newKeyPair, privateKeyPem }, { keyRequest }, { writeCredential }] = await Promise.all([
      import('../../core/pki/x509.js'),
      import('../../core/pki/key-request.js'),
      import('../credential.js'),
    ]);
    await withControl(argv, async (c, target) => {
      const keys = await newKeyPair();
      const [granted, about] = await Promise.all([
        c.call(c.client.grantAccess, {
          name: argv.name,
          role: argv.role,
          lifetimeMs,
          certificateRequest: await keyRequest(keys),
        }),
        target.address.startsWith('unix:') && !target.listen ? c.call(c.client.overview, {}) : undefined,
      ]);
      const { address, guessed } = controllerAddress(target, target.listen ?? about?.listen ?? '');
      const credential = {
        name: argv.name,
        role: argv.role,
        controller: address,
        notAfterMs: granted.notAfterMs,
        certificate: granted.certificate,
        key: await privateKeyPem(keys.privateKey),
        ca: granted.caCertificate,
      };
      try {
        await writeCredential(argv.out ?? process.stdout, credential, { force: argv.force });
      } catch (err) {
        throw new YardError(
          'WRITE_FAILED',
          `${argv.name}'s credential was issued (serial ${granted.serial}) but not written: ${errorMessage(err)}; revoke it with \`yard access revoke ${argv.name}\` and grant again`,
        );
      }
      const until = new Date(granted.notAfterMs).toISOString();
      const where = argv.out ? `the credential is in ${argv.out}` : 'the credential went to standard output';
      const elsewhere = guessed
        ? `; it names the controller ${address}: change "controller" in it if others reach the controller by another address`
        : '';
      const note = `${argv.name} is granted the ${argv.role} role until ${until} (serial ${granted.serial}); ${where}: keep it private, and use it with \`yard --credential FILE\` or $YARD_CREDENTIAL${elsewhere}`;
      // Standard output holds the credential alone when it is the destination.
      (argv.out ? process.stdout : process.stderr).write(`${printable(note)}\n`);
    });
  },
};

/** in force, revoked or expired, at `nowMs`. */
function grantState(g: AccessGrant, nowMs: number): string {
  if (g.revokedMs > 0) return 'revoked';
  return g.notAfterMs <= nowMs ? 'expired' : 'in force';
}

function when(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** The stable JSON shape of `yard access list --json` (no key, no certificate: nothing secret). */
function grantJson(g: AccessGrant, nowMs: number) {
  return {
    name: g.name,
    role: g.role,
    serial: g.serial,
    granted: new Date(g.grantedMs).toISOString(),
    grantedBy: g.grantedBy,
    expires: new Date(g.notAfterMs).toISOString(),
    state: grantState(g, nowMs),
    revoked: g.revokedMs > 0 ? new Date(g.revokedMs).toISOString() : null,
    revokedBy: g.revokedMs > 0 ? g.revokedBy : null,
  };
}

const listCommand = {
  command: 'list',
  describe:
    "list operators' credentials, newest first: role, serial, when granted, until when, in force or not, by whom",
  builder: (y: Argv) =>
    withTarget(y).option('json', { type: 'boolean', default: false, describe: 'print a JSON array' }),
  async handler(argv: TargetArgs & { json: boolean }) {
    const { table } = await import('../format-workloads.js');
    await withControl(argv, async (c) => {
      const { grants } = await c.call(c.client.listAccess, {});
      const now = Date.now();
      if (argv.json)
        process.stdout.write(
          printableJson(
            grants.map((g) => grantJson(g, now)),
            2,
          ) + '\n',
        );
      else if (grants.length === 0)
        process.stdout.write('no credentials granted: `yard access grant NAME --role viewer` makes one\n');
      else {
        const rows = grants.map((g) => [
          g.name,
          g.role,
          g.serial,
          when(g.grantedMs),
          when(g.notAfterMs),
          grantState(g, now),
          g.revokedMs > 0 ? `${g.grantedBy}; revoked by ${g.revokedBy}` : g.grantedBy,
        ]);
        process.stdout.write(table([['NAME', 'ROLE', 'SERIAL', 'GRANTED', 'EXPIRES', 'STATE', 'BY'], ...rows]));
      }
    });
  },
};

const revokeCommand = {
  command: 'revoke <name>',
  describe: 'revoke every credential of an operator: they stop working at once, open dashboards included',
  builder: (y: Argv) =>
    withTarget(y).positional('name', {
      type: 'string',
      demandOption: true,
      describe: 'the operator (`yard access list`)',
    }),
  async handler(argv: TargetArgs & { name: string }) {
    try {
      checkOperatorName(argv.name);
    } catch (err) {
      exitUsage('access revoke', err);
    }
    await withControl(argv, async (c) => {
      const { serials } = await c.call(c.client.revokeAccess, { name: argv.name });
      const which = serials.length === 1 ? 'credential' : `${serials.length} credentials`;
      process.stdout.write(`revoked ${argv.name}'s ${which} (serial ${serials.join(', ')}): refused from now on\n`);
    });
  },
};

export const accessCommand = {
  command: 'access',
  describe: "operators' credentials: grant one with a role, list them, revoke them",
  builder: (y: Argv) =>
    withDataDir(y)
      .usage('$0 access COMMAND [options]\n\nCredentials for operators beyond this host, each with a role.')
      .command(grantCommand)
      .command(listCommand)
      .command(revokeCommand),
  handler() {
    exitUsage('access', 'name an access command: grant, list or revoke');
  },
};

export const whoamiCommand = {
  command: 'whoami',
  describe: 'who the controller takes you for: your name, your role, and how you reached it',
  builder: (y: Argv) => withTarget(y),
  async handler(argv: TargetArgs) {
    await withControl(argv, async (c) => {
      const me = await c.call(c.client.whoAmI, {});
      process.stdout.write(`name: ${printable(me.name)}\nrole: ${me.role}\nvia: ${me.via}\n`);
    });
  },
};

export const tokenRotateCommand = {
  command: 'rotate',
  describe: 'replace the join token (agents that joined keep working) and print the new one',
  builder: (y: Argv) => withTarget(y),
  async handler(argv: TargetArgs) {
    await withControl(argv, async (c) => {
      const { joinToken } = await c.call(c.client.rotateJoinToken, {});
      process.stdout.write(`${joinToken}\n`);
      process.stderr.write(
        'the old join token no longer admits new agents; agents that joined keep their certificates\n',
      );
    });
  },
};

const removeServerCommand = {
  command: 'remove <server>',
  describe: "forget a server and revoke its agent's certificate at once: it cannot reconnect",
  builder: (y: Argv) =>
    withTarget(y).positional('server', {
      type: 'string',
      demandOption: true,
      describe: 'its name or id (`yard servers` lists them)',
    }),
  async handler(argv: TargetArgs & { server: string }) {
    if (!argv.server.trim()) exitUsage('server remove', 'name the server to remove: `yard servers` lists them');
    await withControl(argv, async (c) => {
      const { serverId, serials } = await c.call(c.client.removeServer, { server: argv.server });
      const revoked = serials.length > 0 ? `, its agent's certificate revoked (serial ${serials.join(', ')})` : '';
      process.stdout.write(
        `removed server ${printable(argv.server)} (${serverId})${revoked}: to bring it back, join its agent again with \`yard token\`\n`,
      );
    });
  },
};

export const serverCommand = {
  command: 'server',
  describe: 'change a server: remove it from the fleet',
  builder: (y: Argv) =>
    withDataDir(y)
      .usage('$0 server COMMAND [options]\n\n`yard servers` lists the servers.')
      .command(removeServerCommand),
  handler() {
    exitUsage('server', 'name a server command: remove');
  },
};
