import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { last, parseUnit } from './unit-file.js';

describe('deploy/systemd/kluis@.service', () => {
  it('restarts the node on any death and never gives up (a SIGBUS at every start once left it down)', async () => {
    const unit = parseUnit(await readFile(new URL('../../deploy/systemd/kluis@.service', import.meta.url), 'utf8'));
    const service = unit.get('Service');
    const u = unit.get('Unit');
    // on-failure covers signals too; the node stayed down because the start limit gave up.
    expect(last(service, 'Restart')).toBe('always');
    const restartSec = Number.parseFloat(last(service, 'RestartSec') ?? '0.1');
    expect(restartSec).toBeGreaterThanOrEqual(1);
    // Either no start limit at all, or one that cannot be reached at this restart pace.
    const interval = last(u, 'StartLimitIntervalSec') ?? last(service, 'StartLimitIntervalSec') ?? '10';
    const burst = Number(last(u, 'StartLimitBurst') ?? '5');
    const unlimited = interval === '0' || interval === 'infinity' || Number.parseFloat(interval) < burst * restartSec;
    expect(unlimited, `StartLimitIntervalSec=${interval}, StartLimitBurst=${burst}, RestartSec=${restartSec}`).toBe(true);
    // Hitting the limit must not reboot or power off the machine either.
    expect(last(u, 'StartLimitAction') ?? 'none').toBe('none');
    // A stop by the operator stays a stop: drains on SIGTERM within the timeout.
    expect(last(service, 'KillSignal')).toBe('SIGTERM');
  });
});
