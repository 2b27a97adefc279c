import { describe, expect, it } from 'vitest';
import { LocalBus } from './local-bus.js';
import { reconcileDevices } from './reconcile.js';

const devices = new Map([
  [1, 100],
  [2, 200],
  [3, 300],
]);

describe('reconcileDevices', () => {
  it('passes an exact device list', () => {
    expect(reconcileDevices({ devices, messages: [1, 2, 3].map((d) => ({ deviceId: d, registrationId: d * 100 })), resend: false })).toBeUndefined();
  });

  it('reports missing and extra devices (409), sorted', () => {
    const err = reconcileDevices({ devices, messages: [{ deviceId: 5, registrationId: 1 }, { deviceId: 1, registrationId: 100 }], resend: false });
    expect(err?.status).toBe(409);
    expect(err?.toBody()).toMatchObject({ code: 'MISMATCHED_DEVICES', missingDevices: [2, 3], extraDevices: [5] });
  });

  it('reports stale devices (410) only when the set matches', () => {
    const err = reconcileDevices({ devices, messages: [{ deviceId: 1, registrationId: 100 }, { deviceId: 2, registrationId: 1 }, { deviceId: 3, registrationId: 2 }], resend: false });
    expect(err?.status).toBe(410);
    expect(err?.toBody()).toMatchObject({ code: 'STALE_DEVICES', staleDevices: [2, 3] });
  });

  it('excludes the sending device of a sync copy and treats it as extra if listed', () => {
    expect(reconcileDevices({ devices, excludeDeviceId: 1, messages: [{ deviceId: 2, registrationId: 200 }, { deviceId: 3, registrationId: 300 }], resend: false })).toBeUndefined();
    expect(reconcileDevices({ devices, excludeDeviceId: 1, messages: [{ deviceId: 1, registrationId: 100 }, { deviceId: 2, registrationId: 200 }, { deviceId: 3, registrationId: 300 }], resend: false })?.toBody()).toMatchObject({ extraDevices: [1] });
  });

  it('allows a subset on resend but not extras or stale ids', () => {
    expect(reconcileDevices({ devices, messages: [{ deviceId: 2, registrationId: 200 }], resend: true })).toBeUndefined();
    expect(reconcileDevices({ devices, messages: [{ deviceId: 4, registrationId: 1 }], resend: true })?.status).toBe(409);
    expect(reconcileDevices({ devices, messages: [{ deviceId: 2, registrationId: 1 }], resend: true })?.status).toBe(410);
  });
});

describe('LocalBus', () => {
  it('delivers to every subscriber of a key and survives unsubscribing mid-publish', () => {
    const bus = new LocalBus();
    const got: string[] = [];
    let offB: () => void = () => {};
    const offA = bus.subscribe('k', () => {
      got.push('a');
      offB();
    });
    offB = bus.subscribe('k', () => got.push('b'));
    bus.subscribe('other', () => got.push('other'));
    bus.publish('k', { type: 'wake' });
    bus.publish('k', { type: 'wake' });
    expect(got).toEqual(['a', 'b', 'a']);
    offA();
    offA();
    expect(bus.size).toBe(1);
    bus.publish('nobody', { type: 'wake' });
  });
});
