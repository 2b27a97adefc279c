import type { Command } from 'commander';
import type { SubscriptionInfo } from '@kluis/protocol';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { withClient } from '../profile.js';

const day = (ms: number | null) => (ms === null ? 'no end date' : new Date(ms).toISOString().slice(0, 10));

/** One line about the subscription, plus the 14-day warning the SDK event carries. */
async function describe(io: CliIo, info: SubscriptionInfo): Promise<void> {
  line(io.stdout, `${info.brand.name}: ${info.state}, paid until ${day(info.paidUntil)}`);
  // Already loaded by the open client; not imported at the top, which every start pays for.
  const { subscriptionWarning } = await import('@kluis/sdk');
  const warning = subscriptionWarning(info, Date.now());
  if (info.state === 'grace') line(io.stderr, `warning: your subscription has ended; you can receive until ${day(info.graceEndsAt)} but not send. Renew with: kluis renew CODE`);
  else if (info.state === 'suspended') line(io.stderr, 'warning: this account is suspended. Renew with: kluis renew CODE');
  else if (warning) line(io.stderr, `warning: your subscription ends in ${warning.daysLeft} day(s), on ${day(warning.paidUntil)}. Renew with: kluis renew CODE`);
}

export function registerSubscriptionCommands(program: Command, io: CliIo): void {
  program
    .command('subscription')
    .description('show paid-until and subscription state')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        const info = await client.subscription.info();
        if (o.json) jsonLine(io.stdout, info);
        else await describe(io, info);
      });
    });

  program
    .command('renew')
    .description('extend your subscription with a renewal code')
    .argument('<code>', 'renewal code (dashes and case do not matter)')
    .option('--json', 'print JSON')
    .action(async (code: string, o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        const info = await client.subscription.renew(code);
        if (o.json) jsonLine(io.stdout, info);
        else await describe(io, info);
      });
    });

  program
    .command('invite')
    .description("invite someone to your brand (within the brand's quota); nothing links them to you once they join")
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        const r = await client.subscription.createInvite();
        if (o.json) return jsonLine(io.stdout, r);
        line(io.stdout, r.code);
        line(io.stderr, `${r.remaining} invite(s) left`);
      });
    });
}
