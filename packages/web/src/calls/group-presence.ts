import type { CallMedia, CallView } from './call-types.js';

/**
 * Who is in which group call, from the joins and leaves this device heard (its own not
 * among them): what "Join call" in a group's header rests on. A call is over here once
 * every device heard joining has left.
 */
export class GroupPresence {
  private readonly calls = new Map<string, { callId: string; media: CallMedia; devices: Set<string> }>();

  /** A join (`joined` = its media) or a leave (null); returns whether anything changed. */
  note(conv: string, callId: string, device: string, joined: CallMedia | null): boolean {
    let call = this.calls.get(conv);
    if (joined && call?.callId !== callId) this.calls.set(conv, (call = { callId, media: joined, devices: new Set() }));
    if (!call || call.callId !== callId) return false;
    if (joined) call.devices.add(device);
    else call.devices.delete(device);
    if (call.devices.size === 0) this.calls.delete(conv);
    return true;
  }

  /** Devices heard in the group's current call. */
  count(conv: string): number {
    return this.calls.get(conv)?.devices.size ?? 0;
  }

  get ongoing(): CallView['ongoing'] {
    return Object.fromEntries([...this.calls].map(([conv, c]) => [conv, { callId: c.callId, media: c.media }]));
  }
}
