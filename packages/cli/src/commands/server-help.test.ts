import { Command } from 'commander';
import { serverConfigHelp } from '@kluis/server/config';
import { describe, expect, it } from 'vitest';
import { defaultText, placeholderFor, registerServerCommand } from './server.js';

describe('kluis server --help', () => {
  it('names what each flag takes, and shows defaults without nested parentheses', () => {
    expect(placeholderFor('--data', './data')).toBe('dir');
    expect(placeholderFor('--envelope-ttl-days', '30')).toBe('days');
    expect(placeholderFor('--rate-limits', 'on')).toBe('on|off');
    expect(defaultText('(in-process)')).toBe(' (default: in-process)');
    const program = new Command();
    registerServerCommand(program, { stdout: process.stdout, stderr: process.stderr, env: {} } as never);
    const help = program.commands.find((c) => c.name() === 'server')!.helpInformation();
    expect(help).not.toContain('<value>');
    expect(help).not.toContain('(default (');
    for (const opt of serverConfigHelp) expect(help).toContain(opt.flag.split(' ')[0]!);
  });
});
