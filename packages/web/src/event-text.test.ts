import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Message } from '@kluis/app/api';

// i18n.ts picks its language from the browser when loaded: give it one.
const stored = new Map<string, string>([['kluis.app.language', 'en']]);
vi.stubGlobal('localStorage', { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => void stored.set(k, v) });
vi.stubGlobal('navigator', { languages: ['en'] });
vi.stubGlobal('document', { documentElement: {} });

let eventText: typeof import('./event-text.js').eventText;
let setLanguage: typeof import('./i18n.js').setLanguage;
beforeAll(async () => {
  ({ eventText } = await import('./event-text.js'));
  ({ setLanguage } = await import('./i18n.js'));
});

const event = (o: Partial<Message>): Message => ({
  id: 'e',
  conversation: 'g:00',
  direction: 'incoming',
  from: { accountId: 'acc-a', username: 'alice', deviceId: 1 },
  timestamp: 1,
  text: '',
  kind: 'group-update',
  ...o,
});

describe('events in the current language', () => {
  const change = event({
    event: [
      { type: 'added', by: 'alice', members: ['bob', 'carol'] },
      { type: 'renamed', by: 'alice', title: 'Book club' },
      { type: 'timer', by: 'alice', seconds: 3600 },
    ],
  });

  it('says every part, joined', () => {
    setLanguage('en');
    expect(eventText(change)).toBe('alice added bob and carol. alice renamed the group to “Book club”. alice set messages to disappear after 1 hour.');
    setLanguage('nl');
    expect(eventText(change)).toBe(
      'alice heeft bob en carol toegevoegd. alice heeft de groep hernoemd tot “Book club”. alice heeft ingesteld dat berichten na 1 uur verdwijnen.',
    );
    expect(eventText(event({ kind: 'timer', event: [{ type: 'timer', by: 'bob', seconds: 0 }] }))).toBe('bob heeft verdwijnende berichten uitgezet.');
    expect(eventText(event({ kind: 'missing', event: [{ type: 'missing', count: 1 }] }))).toBe('1 bericht kon niet worden afgeleverd.');
  });

  it('says that a message could not be shown (a received message set aside)', () => {
    const marker = event({ kind: 'missing', event: [{ type: 'not-shown' }] });
    setLanguage('en');
    expect(eventText(marker)).toBe('A message could not be shown.');
    setLanguage('nl');
    expect(eventText(marker)).toBe('Een bericht kon niet worden getoond.');
  });

  it('falls back to the generic line for events stored without parts', () => {
    setLanguage('en');
    expect(eventText(event({ text: 'alice added bob' }))).toBe('alice changed the group.');
    expect(eventText(event({ kind: 'timer', text: 'disappearing messages set' }))).toBe('alice changed the disappearing messages timer.');
    expect(eventText(event({ kind: 'missing', text: '3 messages could not be delivered' }))).toBe('3 messages could not be delivered.');
  });
});
