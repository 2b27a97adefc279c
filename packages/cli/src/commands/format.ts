import type { StoredMessage } from '@kluis/sdk';

export function messageJson(m: StoredMessage): Record<string, unknown> {
  return {
    id: m.id,
    from: m.from.username,
    device: m.from.deviceId,
    conversation: m.conversation,
    direction: m.direction,
    timestamp: m.timestamp,
    text: m.text,
    ...(m.sync ? { sync: true } : {}),
  };
}

export function messageLine(m: StoredMessage): string {
  const time = new Date(m.timestamp).toISOString().replace('T', ' ').slice(0, 19);
  const who = m.direction === 'outgoing' ? `you → ${m.conversation}` : m.from.username;
  return `[${time}] ${who}: ${m.text}`;
}

export function groupDigits(digits: string, size = 5): string {
  return digits.match(new RegExp(`.{1,${size}}`, 'g'))?.join(' ') ?? digits;
}
