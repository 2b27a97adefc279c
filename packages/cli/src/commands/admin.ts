import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CreateInvitesResponse } from '@kluis/protocol';
import { Routes, routeParts } from '@kluis/protocol/routes';
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { registerOperatorCommands } from './admin-operator.js';
import { registerTrustRootCommands } from './admin-trust-root.js';

export interface AdminOptions {
  server: string;
  token?: string;
  tokenFile?: string;
  data: string;
}

export async function operatorToken(io: CliIo, opts: AdminOptions): Promise<string> {
  if (opts.token) return opts.token;
  if (io.env.KLUIS_OPERATOR_TOKEN) return io.env.KLUIS_OPERATOR_TOKEN;
  const file = opts.tokenFile ?? join(opts.data, 'operator-token');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new CliError(`cannot read the operator token from ${file}: pass --token, --token-file or --data DIR`);
  }
}

/** Calls the operator API and turns its {code, message} errors into one readable line. */
async function adminCall<T>(io: CliIo, opts: AdminOptions, route: string, body: unknown): Promise<T> {
  const { method, path } = routeParts(route);
  const token = await operatorToken(io, opts);
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.server), {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${opts.server}: ${(err as Error).message}`);
  }
  const payload = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) throw new CliError(`server refused (${res.status}): ${payload.message ?? res.statusText}`);
  return payload as T;
}

export function registerAdminCommand(program: Command, io: CliIo): void {
  const admin = program
    .command('admin')
    .description('operator commands (need the operator token)')
    .option('--server <url>', 'server URL', io.env.KLUIS_SERVER ?? 'http://127.0.0.1:8470')
    .option('--token <token>', 'operator token (or KLUIS_OPERATOR_TOKEN)')
    .option('--token-file <file>', 'file holding the operator token (default DATA/operator-token)')
    .option('--data <dir>', "the server's data directory, to find its operator-token file", io.env.KLUIS_DATA ?? './data');

  registerOperatorCommands(admin, io);
  registerTrustRootCommands(admin, io);

  const invite = admin.command('invite').description('invite codes');
  invite
    .command('create')
    .description('mint single-use invite codes')
    .option('--count <n>', 'how many', '1')
    .option('--json', 'print JSON')
    .action(async (opts: { count: string; json?: boolean }, cmd: Command) => {
      const count = Number(opts.count);
      if (!Number.isInteger(count) || count < 1 || count > 1000) throw new CliError('--count must be an integer from 1 to 1000');
      const global = cmd.optsWithGlobals<AdminOptions>();
      const { codes } = await adminCall<CreateInvitesResponse>(io, global, Routes.createInvites, { count });
      if (opts.json) return jsonLine(io.stdout, { codes });
      for (const code of codes) line(io.stdout, code);
    });
}
