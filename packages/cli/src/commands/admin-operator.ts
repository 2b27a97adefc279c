import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { AccountView, AdminNodeList, AuditEntry, CodeView, CreateCodesResponse, PlanView } from '@kluis/protocol';
import { Routes, routeParts } from '@kluis/protocol/routes';
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { operatorToken, type AdminOptions } from './admin.js';

/** `kluis admin brands|plans|codes|accounts|admins|audit …`: one subcommand per operator API call. */

type RouteName = keyof typeof Routes;

async function request<T>(
  io: CliIo,
  cmd: Command,
  route: RouteName,
  o: { params?: Record<string, string>; query?: Record<string, string | undefined>; body?: unknown } = {},
): Promise<T> {
  const opts = cmd.optsWithGlobals<AdminOptions>();
  const { method, path } = routeParts(Routes[route]);
  const url = new URL(path.replace(/:([a-zA-Z]+)/g, (_, k: string) => encodeURIComponent(o.params?.[k] ?? '')), opts.server);
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  const token = await operatorToken(io, opts);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(o.body !== undefined && { 'content-type': 'application/json' }) },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${opts.server}: ${(err as Error).message}`);
  }
  const payload = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) throw new CliError(`server refused (${res.status}): ${payload.message ?? res.statusText}`);
  return payload as T;
}

const day = (ms: number | null | undefined) => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString().slice(0, 10));
const int = (text: string, name: string, min: number, max: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};
/** Prints JSON with --json, else one line per row. */
function out<T>(io: CliIo, json: boolean | undefined, value: unknown, rows: T[], format: (row: T) => string): void {
  if (json) return jsonLine(io.stdout, value);
  for (const r of rows) line(io.stdout, format(r));
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

function brandSettings(o: Record<string, string | boolean | undefined>): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  if (o.name !== undefined) s.name = o.name;
  if (o.primaryColor !== undefined) s.primaryColor = o.primaryColor;
  if (o.accentColor !== undefined) s.accentColor = o.accentColor;
  if (o.logoUrl !== undefined) s.logoUrl = o.logoUrl;
  if (o.language !== undefined) s.defaultLanguage = o.language;
  if (o.memberInvites !== undefined) s.membersMayInvite = o.memberInvites === 'on' || o.memberInvites === true;
  if (o.inviteQuota !== undefined) s.memberInviteQuota = int(String(o.inviteQuota), '--invite-quota', 0, 1000);
  if (o.graceDays !== undefined) s.graceDays = int(String(o.graceDays), '--grace-days', 0, 365);
  if (o.retentionDays !== undefined) s.retentionDays = int(String(o.retentionDays), '--retention-days', 1, 3650);
  return s;
}

function withBrandOptions(c: Command): Command {
  return c
    .option('--primary-color <hex>', '#rrggbb shown by clients')
    .option('--accent-color <hex>', '#rrggbb')
    .option('--logo-url <url>', 'https URL of the logo')
    .option('--language <code>', 'default language (en, nl)')
    .option('--member-invites <on|off>', 'whether members may invite')
    .option('--invite-quota <n>', 'member invites per account')
    .option('--grace-days <n>', 'days an expired account can still receive')
    .option('--retention-days <n>', "days before a suspended account's keys and messages are deleted");
}

export function registerOperatorCommands(admin: Command, io: CliIo): void {
  // ------------------------------------------------------------------ brands
  const brands = admin.command('brands').description('brands the service is sold under');
  brands
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const r = await request<{ brands: Array<{ slug: string; name: string; retiredAt: number | null; graceDays: number }> }>(io, cmd, 'listBrands');
      out(io, o.json, r, r.brands, (b) => `${b.slug}\t${b.name}\tgrace ${b.graceDays}d${b.retiredAt ? '\tretired ' + day(b.retiredAt) : ''}`);
    });
  withBrandOptions(brands.command('create').argument('<slug>').requiredOption('--name <name>', 'display name'))
    .option('--json', 'print JSON')
    .action(async (slug: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const r = await request<{ slug: string }>(io, cmd, 'createBrand', { body: { slug, ...brandSettings(o) } });
      out(io, o.json as boolean, r, [r], (b) => `created brand ${b.slug}`);
    });
  withBrandOptions(brands.command('update').argument('<slug>').option('--name <name>', 'new display name (rename)'))
    .option('--json', 'print JSON')
    .action(async (slug: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const r = await request<{ slug: string }>(io, cmd, 'updateBrand', { params: { brand: slug }, body: brandSettings(o) });
      out(io, o.json as boolean, r, [r], (b) => `updated brand ${b.slug}`);
    });
  brands
    .command('retire')
    .argument('<slug>')
    .option('--json', 'print JSON')
    .action(async (slug: string, o: { json?: boolean }, cmd: Command) => {
      const r = await request<{ slug: string }>(io, cmd, 'retireBrand', { params: { brand: slug } });
      out(io, o.json, r, [r], (b) => `retired brand ${b.slug}: no new codes`);
    });

  // ------------------------------------------------------------------ plans
  const plans = admin.command('plans').description("a brand's plans (duration and display price)");
  const planLine = (p: PlanView) => `${p.id}\t${p.name}\t${p.durationCount} ${p.durationUnit}\t${(p.priceCents / 100).toFixed(2)} ${p.currency}${p.retiredAt ? '\tretired' : ''}`;
  plans
    .command('list')
    .requiredOption('--brand <slug>')
    .option('--json', 'print JSON')
    .action(async (o: { brand: string; json?: boolean }, cmd: Command) => {
      const r = await request<{ plans: PlanView[] }>(io, cmd, 'listPlans', { params: { brand: o.brand } });
      out(io, o.json, r, r.plans, planLine);
    });
  plans
    .command('create')
    .requiredOption('--brand <slug>')
    .requiredOption('--name <name>')
    .requiredOption('--duration <n>', 'e.g. 6m (months) or 30d (days)')
    .requiredOption('--price <amount>', 'display price, e.g. 29.99')
    .option('--currency <code>', 'ISO 4217', 'EUR')
    .option('--json', 'print JSON')
    .action(async (o: { brand: string; name: string; duration: string; price: string; currency: string; json?: boolean }, cmd: Command) => {
      const m = /^(\d{1,4})([dm])$/.exec(o.duration.trim());
      if (!m || Number(m[1]) < 1) throw new CliError('--duration must look like 6m (months) or 30d (days), at least 1');
      if (!/^\d{1,7}(\.\d{1,2})?$/.test(o.price)) throw new CliError('--price must be an amount like 29.99');
      const body = { name: o.name, durationUnit: m[2] === 'm' ? 'months' : 'days', durationCount: Number(m[1]), priceCents: Math.round(Number(o.price) * 100), currency: o.currency };
      const r = await request<PlanView>(io, cmd, 'createPlan', { params: { brand: o.brand }, body });
      out(io, o.json, r, [r], planLine);
    });
  plans
    .command('update')
    .argument('<planId>')
    .requiredOption('--brand <slug>')
    .option('--name <name>')
    .option('--price <amount>')
    .option('--currency <code>')
    .option('--json', 'print JSON')
    .action(async (planId: string, o: { brand: string; name?: string; price?: string; currency?: string; json?: boolean }, cmd: Command) => {
      const body: Record<string, unknown> = {};
      if (o.name) body.name = o.name;
      if (o.price) body.priceCents = Math.round(Number(o.price) * 100);
      if (o.currency) body.currency = o.currency;
      const r = await request<PlanView>(io, cmd, 'updatePlan', { params: { brand: o.brand, planId }, body });
      out(io, o.json, r, [r], planLine);
    });
  plans
    .command('retire')
    .argument('<planId>')
    .requiredOption('--brand <slug>')
    .option('--json', 'print JSON')
    .action(async (planId: string, o: { brand: string; json?: boolean }, cmd: Command) => {
      const r = await request<PlanView>(io, cmd, 'retirePlan', { params: { brand: o.brand, planId } });
      out(io, o.json, r, [r], planLine);
    });

  // ------------------------------------------------------------------ codes
  const codes = admin.command('codes').description('invite and renewal codes');
  codes
    .command('create')
    .requiredOption('--brand <slug>', "the brand's slug (admin brands list)")
    .requiredOption('--plan <planId>', 'the plan the codes sell (admin plans list)')
    .requiredOption('--type <type>', 'invite or renewal')
    .option('--count <n>', 'how many (at most 1000)', '1')
    .option('--expires <date>', 'YYYY-MM-DD: unused codes stop working then')
    .option('--csv <file>', 'also write the codes to this CSV file (the only copy: the server keeps hashes)')
    .option('--json', 'print JSON')
    .action(async (o: { brand: string; plan: string; type: string; count: string; expires?: string; csv?: string; json?: boolean }, cmd: Command) => {
      if (o.type !== 'invite' && o.type !== 'renewal') throw new CliError('--type must be invite or renewal');
      const count = int(o.count, '--count', 1, 1000);
      const r = await request<CreateCodesResponse>(io, cmd, 'createCodes', {
        params: { brand: o.brand },
        body: { planId: o.plan, type: o.type, count, ...(o.expires && { expiresAt: o.expires }) },
      });
      if (o.csv) {
        const rows = r.codes.map((c) => [c.code, c.id, r.type, r.brand, r.planId, r.batchId, r.expiresAt === null ? '' : day(r.expiresAt)]);
        await writeFile(o.csv, toCsv(['code', 'id', 'type', 'brand', 'plan', 'batch', 'expires'], rows), { mode: 0o600 });
        line(io.stderr, `wrote ${r.codes.length} codes to ${o.csv}`);
      }
      // The batch id on stderr: codes on stdout stay one per line for scripts.
      if (!o.json) line(io.stderr, `batch ${r.batchId} (codes list --batch, codes revoke --batch)`);
      out(io, o.json, r, r.codes, (c) => c.code);
    });
  codes
    .command('list')
    .requiredOption('--brand <slug>', "the brand's slug (admin brands list)")
    .option('--status <status>', 'unused, used, expired or revoked')
    .option('--type <type>', 'invite or renewal')
    .option('--batch <batchId>', 'only the codes of this batch (its id is in every line of this list)')
    .option('--limit <n>', 'rows', '100')
    .option('--csv <file>', 'write the list as CSV')
    .option('--json', 'print JSON')
    .action(async (o: { brand: string; status?: string; type?: string; batch?: string; limit: string; csv?: string; json?: boolean }, cmd: Command) => {
      const r = await request<{ codes: CodeView[] }>(io, cmd, 'listCodes', {
        params: { brand: o.brand },
        query: { status: o.status, type: o.type, batchId: o.batch, limit: o.limit },
      });
      if (o.csv) {
        const rows = r.codes.map((c) => [c.id, c.type, c.status, c.source, c.planId, c.batchId, day(c.createdAt), c.expiresAt ? day(c.expiresAt) : '', c.usedDay ? day(c.usedDay) : '']);
        await writeFile(o.csv, toCsv(['id', 'type', 'status', 'source', 'plan', 'batch', 'created', 'expires', 'used'], rows));
      }
      out(io, o.json, r, r.codes, (c) => `${c.id}\t${c.type}\t${c.status}\tbatch ${c.batchId}\tcreated ${day(c.createdAt)}\texpires ${day(c.expiresAt)}`);
    });
  codes
    .command('revoke')
    .requiredOption('--brand <slug>', "the brand's slug (admin brands list)")
    .option('--id <ids...>', 'code ids')
    .option('--batch <batchId>', 'every unused code of this batch (its id: codes list, or the CSV of codes create)')
    .option('--code <codes...>', 'the codes themselves')
    .option('--json', 'print JSON')
    .action(async (o: { brand: string; id?: string[]; batch?: string; code?: string[]; json?: boolean }, cmd: Command) => {
      if (!o.id && !o.batch && !o.code) throw new CliError('name what to revoke: --id, --batch or --code');
      const r = await request<{ revoked: number }>(io, cmd, 'revokeCodes', {
        params: { brand: o.brand },
        body: { ...(o.id && { ids: o.id }), ...(o.batch && { batchId: o.batch }), ...(o.code && { codes: o.code }) },
      });
      out(io, o.json, r, [r], (x) => `revoked ${x.revoked} code(s)`);
    });

  // ------------------------------------------------------------------ accounts
  const accounts = admin.command('accounts').description('subscriber accounts (never contacts or messages)');
  const accountLine = (a: AccountView) =>
    `${a.id}\t${a.username}\t${a.brand}\t${a.state}\tpaid until ${day(a.paidUntil)}\t${a.deviceCount} device(s)\tlast seen ${day(a.lastSeenDay)}`;
  accounts
    .command('list')
    .option('--brand <slug>')
    .option('--search <prefix>', 'username prefix')
    .option('--state <state>', 'active, grace, suspended or purged')
    .option('--limit <n>', 'rows', '100')
    .option('--json', 'print JSON')
    .action(async (o: { brand?: string; search?: string; state?: string; limit: string; json?: boolean }, cmd: Command) => {
      const r = await request<{ accounts: AccountView[] }>(io, cmd, 'listAccounts', { query: { brand: o.brand, q: o.search, state: o.state, limit: o.limit } });
      out(io, o.json, r, r.accounts, accountLine);
    });
  for (const [name, route, verb] of [
    ['show', 'getAccount', ''],
    ['suspend', 'suspendAccount', 'suspended '],
    ['unsuspend', 'unsuspendAccount', 'unsuspended '],
  ] as const) {
    accounts
      .command(name)
      .argument('<accountId>')
      .option('--json', 'print JSON')
      .action(async (accountId: string, o: { json?: boolean }, cmd: Command) => {
        const r = await request<AccountView>(io, cmd, route, { params: { accountId } });
        out(io, o.json, r, [r], (a) => verb + accountLine(a));
      });
  }
  accounts
    .command('delete')
    .argument('<accountId>')
    .option('--json', 'print JSON')
    .action(async (accountId: string, o: { json?: boolean }, cmd: Command) => {
      const r = await request<object>(io, cmd, 'deleteAccount', { params: { accountId } });
      out(io, o.json, r, [r], () => `deleted ${accountId}`);
    });
  accounts
    .command('revoke-devices')
    .argument('<accountId>')
    .option('--device <ids...>', 'device ids (default: all linked devices)')
    .option('--json', 'print JSON')
    .action(async (accountId: string, o: { device?: string[]; json?: boolean }, cmd: Command) => {
      const body = o.device ? { deviceIds: o.device.map((d) => int(d, '--device', 1, 127)) } : {};
      const r = await request<{ revoked: number[] }>(io, cmd, 'revokeAccountDevices', { params: { accountId }, body });
      out(io, o.json, r, [r], (x) => `revoked devices: ${x.revoked.join(', ') || 'none'}`);
    });

  // ------------------------------------------------------------------ admins
  const admins = admin.command('admins').description('admin tokens (operator, brand-admin)');
  admins
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const r = await request<{ admins: Array<{ id: string; name: string; role: string; brand: string | null; revokedAt: number | null }> }>(io, cmd, 'listAdmins');
      out(io, o.json, r, r.admins, (a) => `${a.id}\t${a.name}\t${a.role}${a.brand ? ' of ' + a.brand : ''}${a.revokedAt ? '\trevoked ' + day(a.revokedAt) : ''}`);
    });
  admins
    .command('create')
    .requiredOption('--name <name>')
    .requiredOption('--role <role>', 'operator or brand-admin')
    .option('--brand <slug>', 'the brand of a brand-admin')
    .option('--json', 'print JSON')
    .action(async (o: { name: string; role: string; brand?: string; json?: boolean }, cmd: Command) => {
      const r = await request<{ token: string; admin: { id: string } }>(io, cmd, 'createAdmin', { body: { name: o.name, role: o.role, ...(o.brand && { brand: o.brand }) } });
      if (!o.json) line(io.stderr, `admin ${r.admin.id} created; the token below is shown once:`);
      out(io, o.json, r, [r], (x) => x.token);
    });
  admins
    .command('revoke')
    .argument('<adminId>')
    .option('--json', 'print JSON')
    .action(async (adminId: string, o: { json?: boolean }, cmd: Command) => {
      const r = await request<{ id: string }>(io, cmd, 'revokeAdmin', { params: { adminId } });
      out(io, o.json, r, [r], (a) => `revoked admin ${a.id}`);
    });

  // ------------------------------------------------------------------ audit
  const audit = admin.command('audit').description('who did what, when');
  const auditLine = (e: AuditEntry) => `${new Date(e.at).toISOString()}\t${e.adminName} (${e.role})\t${e.action}\t${e.brand ?? '-'}\t${e.target ?? ''}`;
  audit
    .command('list')
    .option('--brand <slug>')
    .option('--limit <n>', 'rows', '100')
    .option('--json', 'print JSON')
    .action(async (o: { brand?: string; limit: string; json?: boolean }, cmd: Command) => {
      const r = await request<{ entries: AuditEntry[] }>(io, cmd, 'listAudit', { query: { brand: o.brand, limit: o.limit } });
      out(io, o.json, r, r.entries, auditLine);
    });
  audit
    .command('export')
    .requiredOption('--csv <file>')
    .option('--brand <slug>')
    .action(async (o: { csv: string; brand?: string }, cmd: Command) => {
      const r = await request<{ entries: AuditEntry[] }>(io, cmd, 'listAudit', { query: { brand: o.brand, limit: '10000' } });
      const rows = r.entries.map((e) => [e.id, new Date(e.at).toISOString(), e.adminId, e.adminName, e.role, e.brand, e.action, e.target, e.detail]);
      await writeFile(o.csv, toCsv(['id', 'at', 'admin_id', 'admin', 'role', 'brand', 'action', 'target', 'detail'], rows));
      line(io.stderr, `wrote ${rows.length} entries to ${o.csv}`);
    });

  // ------------------------------------------------------------------ nodes
  admin
    .command('nodes')
    .description('cluster nodes: region, URL, connections, health (a missed heartbeat = down)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const r = await request<AdminNodeList>(io, cmd, 'adminNodes');
      if (o.json) return jsonLine(io.stdout, r);
      line(io.stdout, ['node', 'region', 'status', 'connections', 'last heartbeat', 'up since', 'url'].join('\t'));
      for (const n of r.nodes) {
        const ago = `${Math.max(0, Math.round((r.now - n.heartbeatAt) / 1000))} s ago`;
        line(io.stdout, [n.name, n.region || '-', n.status, n.connections, ago, new Date(n.startedAt).toISOString(), n.url].join('\t'));
      }
      const up = r.nodes.filter((n) => n.status === 'up');
      const regions = new Set(up.map((n) => n.region || '-'));
      line(io.stderr, `${up.length} of ${r.nodes.length} nodes up in ${regions.size} region(s), ${up.reduce((a, n) => a + n.connections, 0)} connections`);
    });
}
