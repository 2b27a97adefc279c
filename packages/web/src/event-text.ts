import { formatDuration, formatList, t } from './i18n.js';
import type { ConversationEvent, Message } from '@kluis/app/api';

/**
 * An event ('group-update', 'timer', 'missing') in the current language, from its parts.
 * Events stored before clients kept parts get the generic line for their kind.
 */
export function eventText(m: Message): string {
  if (m.event?.length) return m.event.map(partText).join(t('event.separator'));
  if (m.kind === 'group-update') return t('event.groupUpdate', { who: m.from.username });
  if (m.kind === 'timer') return t('event.timer', { who: m.from.username });
  // Older markers say the count only in the SDK's English.
  return t('event.missing', { count: Number(/\d+/.exec(m.text)?.[0] ?? 1) });
}

function partText(p: ConversationEvent): string {
  switch (p.type) {
    case 'created':
      return t('event.created', { who: p.by, title: p.title });
    case 'left':
      return t('event.left', { who: p.by });
    case 'removed':
      return t('event.removed', { who: p.by, members: formatList(p.members) });
    case 'added':
      return t('event.added', { who: p.by, members: formatList(p.members) });
    case 'admin':
      return t('event.admin', { member: p.member });
    case 'renamed':
      return t('event.renamed', { who: p.by, title: p.title });
    case 'timer':
      return p.seconds === 0 ? t('event.timerOff', { who: p.by }) : t('event.timerSet', { who: p.by, duration: formatDuration(p.seconds) });
    case 'picture':
      return t('event.picture', { who: p.by });
    case 'updated':
      return t('event.groupUpdate', { who: p.by });
    case 'missing':
      return t('event.missing', { count: p.count });
    case 'not-shown':
      return t('event.notShown');
    case 'call': {
      const media = t(`event.call.${p.media}`);
      const key = p.outcome === 'answered' ? 'event.call.answered' : `event.call.${p.outcome}.${p.direction}`;
      const text = t(key, { media, duration: callDuration(p.seconds) });
      return text.charAt(0).toUpperCase() + text.slice(1);
    }
  }
}

/** "2:05": a call's talk time. */
function callDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return `${m}:${String(seconds % 60).padStart(2, '0')}`;
}
