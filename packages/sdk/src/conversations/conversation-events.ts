import type { ConversationEvent } from '../types.js';

/**
 * The one English rendering of an event's parts. The stored body is made from it, so the
 * English text (CLI, search) and the parts a UI translates never disagree.
 */
export function eventText(parts: readonly ConversationEvent[]): string {
  return parts.map(partText).join('; ');
}

function partText(p: ConversationEvent): string {
  switch (p.type) {
    case 'created':
      return `${p.by} created the group “${p.title}”`;
    case 'left':
      return `${p.by} left the group`;
    case 'removed':
      return `${p.by} removed ${p.members.join(', ')}`;
    case 'added':
      return `${p.by} added ${p.members.join(', ')}`;
    case 'admin':
      return `${p.member} is now an admin`;
    case 'renamed':
      return `${p.by} renamed the group to “${p.title}”`;
    case 'timer':
      return `${p.by} set disappearing messages to ${formatTimer(p.seconds)}`;
    case 'picture':
      return `${p.by} changed the group picture`;
    case 'updated':
      return `${p.by} updated the group`;
    case 'missing':
      return p.count === 1 ? '1 message could not be delivered' : `${p.count} messages could not be delivered`;
    case 'not-shown':
      return 'a message could not be shown';
    case 'call':
      return callText(p);
  }
}

function callText(p: Extract<ConversationEvent, { type: 'call' }>): string {
  const what = `${p.media} call`;
  const incoming = p.direction === 'incoming';
  switch (p.outcome) {
    case 'ringing':
      return incoming ? `Incoming ${what}` : `Outgoing ${what}`;
    case 'answered':
      return `${what[0]!.toUpperCase()}${what.slice(1)} in progress`;
    case 'ended':
      return `${incoming ? 'Incoming' : 'Outgoing'} ${what}, ${formatDuration(p.seconds)}`;
    case 'declined':
      return incoming ? `Declined ${what}` : `Outgoing ${what}, declined`;
    case 'missed':
      return incoming ? `Missed ${what}` : `Outgoing ${what}, not answered`;
    case 'busy':
      return incoming ? `Missed ${what}` : `Outgoing ${what}, busy`;
  }
}

/** Seconds → "m:ss" or "h:mm:ss", the way call durations are shown. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** The columns an event row keeps: the English body and the parts (JSON). */
export function eventColumns(parts: readonly ConversationEvent[]): { body: string; event: string } {
  return { body: eventText(parts), event: JSON.stringify(parts) };
}

/** The "could not be delivered" marker's columns, for `count` messages still missing. */
export function missingColumns(count: number): { body: string; event: string } {
  return eventColumns([{ type: 'missing', count }]);
}

/** The "could not be shown" marker's columns (a received message that failed to apply, see inbox/inbox-drain.ts). */
export function notShownColumns(): { body: string; event: string } {
  return eventColumns([{ type: 'not-shown' }]);
}

/** Seconds → the largest whole unit ("1h", "90s", "off"): the English the CLI and event texts use. */
export function formatTimer(seconds: number): string {
  if (!seconds) return 'off';
  const units: Array<[number, string]> = [
    [7 * 86400, 'w'],
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  for (const [n, u] of units) if (seconds % n === 0) return `${seconds / n}${u}`;
  return `${seconds}s`;
}

type Field = 'string' | 'strings' | 'count' | readonly string[];

/** The fields each part must have; a UI may trust whatever parseEvent lets through. */
const SHAPES: { [T in ConversationEvent['type']]: Record<Exclude<keyof Extract<ConversationEvent, { type: T }>, 'type'>, Field> } = {
  created: { by: 'string', title: 'string' },
  left: { by: 'string' },
  removed: { by: 'string', members: 'strings' },
  added: { by: 'string', members: 'strings' },
  admin: { member: 'string' },
  renamed: { by: 'string', title: 'string' },
  timer: { by: 'string', seconds: 'count' },
  picture: { by: 'string' },
  updated: { by: 'string' },
  missing: { count: 'count' },
  'not-shown': {},
  call: {
    direction: ['incoming', 'outgoing'],
    media: ['audio', 'video'],
    outcome: ['ringing', 'answered', 'ended', 'declined', 'missed', 'busy'],
    seconds: 'count',
    answeredAt: 'count',
  },
};

const fits = (v: unknown, f: Field): boolean =>
  typeof f !== 'string'
    ? typeof v === 'string' && f.includes(v)
    : f === 'string'
    ? typeof v === 'string'
    : f === 'strings'
      ? Array.isArray(v) && v.every((x) => typeof x === 'string')
      : Number.isSafeInteger(v) && (v as number) >= 0;

function isPart(v: unknown): v is ConversationEvent {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const shape = Object.hasOwn(SHAPES, o.type as string) ? (SHAPES[o.type as ConversationEvent['type']] as Record<string, Field>) : undefined;
  return shape !== undefined && Object.entries(shape).every(([k, f]) => fits(o[k], f));
}

/**
 * The stored parts, or undefined when there are none or they do not make sense (a broken
 * column, or a part from a newer client): the event is then shown from its text alone.
 */
export function parseEvent(json: string | null | undefined): ConversationEvent[] | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) && v.length > 0 && v.every(isPart) ? v : undefined;
  } catch {
    return undefined;
  }
}
