#!/usr/bin/env node
// `kluis server` alone: the CLI's own server command (flags, environment, SIGTERM
// drain), without loading the client SDK the other commands need. Cluster tests start
// and restart many nodes; this starts faster and does not depend on client code.
// Run from source like the CLI entry (CliProcess adds --conditions=kluis-source --import tsx).
const { Command } = await import('commander');
const { registerServerCommand } = await import('../../packages/cli/src/commands/server.ts');
const program = new Command('kluis').exitOverride();
registerServerCommand(program, { stdout: process.stdout, stderr: process.stderr, env: process.env });
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`error: ${err?.message ?? String(err)}\n`);
  process.exitCode = 1;
}
