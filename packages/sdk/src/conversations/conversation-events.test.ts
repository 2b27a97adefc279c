import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase } from '../store/db.js';
import { DataStore, type MessageRow } from '../store/data-store.js';
import { tempDir } from '../store/test-util.js';
import type { ConversationEvent } from '../types.js';
import { eventColumns, eventText, missingColumns, notShownColumns, parseEvent } from './conversation-events.js';
import { toStored } from './stored.js';

describe('event text', () => {
  it('says every part in English, joined with "; "', () => {
    const parts: ConversationEvent[] = [
      { type: 'removed', by: 'alice', members: ['bob', 'carol'] },
      { type: 'added', by: 'alice', members: ['dave'] },
      { type: 'admin', member: 'dave' },
      { type: 'renamed', by: 'alice', title: 'x' },
      { type: 'timer', by: 'alice', seconds: 3600 },
      { type: 'picture', by: 'alice' },
    ];
    expect(eventText(parts)).toBe(
      'alice removed bob, carol; alice added dave; dave is now an admin; alice renamed the group to “x”; ' +
        'alice set disappearing messages to 1h; alice changed the group picture',
    );
    expect(eventText([{ type: 'created', by: 'alice', title: 'Book club' }])).toBe('alice created the group “Book club”');
    expect(eventText([{ type: 'left', by: 'bob' }])).toBe('bob left the group');
    expect(eventText([{ type: 'updated', by: 'bob' }])).toBe('bob updated the group');
    expect(eventText([{ type: 'timer', by: 'bob', seconds: 0 }])).toBe('bob set disappearing messages to off');
    expect(missingColumns(1).body).toBe('1 message could not be delivered');
    expect(missingColumns(3).body).toBe('3 messages could not be delivered');
  });

  it('marks a received message that could not be shown', () => {
    const cols = notShownColumns();
    expect(cols.body).toBe('a message could not be shown');
    expect(parseEvent(cols.event)).toEqual([{ type: 'not-shown' }]);
  });

  it('keeps the parts it rendered, so text and parts agree', () => {
    const parts: ConversationEvent[] = [{ type: 'added', by: 'alice', members: ['bob'] }];
    const cols = eventColumns(parts);
    expect(cols.body).toBe(eventText(parts));
    expect(parseEvent(cols.event)).toEqual(parts);
  });
});

describe('parseEvent', () => {
  it('omits what is absent, broken or not understood', () => {
    expect(parseEvent(null)).toBeUndefined();
    expect(parseEvent('')).toBeUndefined();
    expect(parseEvent('{not json')).toBeUndefined();
    expect(parseEvent('{"type":"left","by":"a"}')).toBeUndefined(); // not a list
    expect(parseEvent('[]')).toBeUndefined();
    expect(parseEvent('[null]')).toBeUndefined();
    expect(parseEvent('[{"type":"poll","by":"a"}]')).toBeUndefined(); // a newer client's part
    expect(parseEvent('[{"type":"toString","by":"a"}]')).toBeUndefined();
    expect(parseEvent('[{"type":"added","by":"a","members":"b"}]')).toBeUndefined();
    expect(parseEvent('[{"type":"added","by":"a","members":[1]}]')).toBeUndefined();
    expect(parseEvent('[{"type":"missing","count":-1}]')).toBeUndefined();
    expect(parseEvent('[{"type":"timer","by":"a","seconds":"60"}]')).toBeUndefined();
    expect(parseEvent('[{"type":"left","by":"a"},{"type":"renamed","by":"a"}]')).toBeUndefined();
    expect(parseEvent('[{"type":"missing","count":2}]')).toEqual([{ type: 'missing', count: 2 }]);
  });
});

describe('event parts in the messages table', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());
  const db = openDatabase(join(t.dir, 'events.db'), 'pw');
  afterAll(() => db.close());
  const data = new DataStore(db, () => 1000);
  const row = (id: string, o: Partial<MessageRow>): MessageRow => ({
    id,
    conversation: 'g:00',
    peerAccountId: null,
    direction: 'incoming',
    senderAccountId: 'acc-a',
    senderUsername: 'alice',
    senderDevice: 1,
    timestamp: 1,
    serverTimestamp: null,
    body: '',
    sync: false,
    status: null,
    kind: 'group-update',
    ...o,
  });

  it('round-trip to StoredMessage.event with the English text beside them', () => {
    const parts: ConversationEvent[] = [
      { type: 'added', by: 'alice', members: ['bob', 'carol'] },
      { type: 'renamed', by: 'alice', title: 'Book club' },
    ];
    data.insertMessage(row('e1', eventColumns(parts)), null);
    const m = toStored(data.getMessage('e1')!);
    expect(m.event).toEqual(parts);
    expect(m.text).toBe('alice added bob, carol; alice renamed the group to “Book club”');
  });

  it('leave them out for rows without (older events, text messages) or with a broken column', () => {
    data.insertMessage(row('old', { body: 'alice updated the group' }), null);
    data.insertMessage(row('text', { kind: 'text', body: 'hi' }), null);
    data.insertMessage(row('bad', { body: 'x', event: '[{"type":' }), null);
    for (const id of ['old', 'text', 'bad']) expect(toStored(data.getMessage(id)!)).not.toHaveProperty('event');
    expect(toStored(data.getMessage('old')!).text).toBe('alice updated the group');
  });
});
