import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventQuery, MessageEvent, MessageMeta } from '../store/platform-store.js';
import { metricsOf } from '../store/event-effects.js';
import { TrackingRecorder, type TrackingStore } from './tracking.js';
import type { TrackingRef } from './tracking-token.js';

const ID = '01JZ3K4M5N6P7Q8R9S0T';
const DELIVERED_AT = 1_750_000_000_000;
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

/** The events of one account in memory, listEvents filtered like the stores do. */
function memoryStore(meta: MessageMeta | null) {
  const events: MessageEvent[] = [];
  const add = (e: Omit<MessageEvent, 'id' | 'seq'>) => {
    const seq = events.length + 1;
    events.push({ ...e, id: `ev_${seq}`, seq });
    return events.at(-1)!;
  };
  const store: TrackingStore = {
    getMessageMeta: async () => meta,
    listEvents: async (q: EventQuery) => events.filter((e) => e.account === q.account && e.messageId === q.messageId
      && e.recipient?.toLowerCase() === q.recipient?.toLowerCase() && (!q.types || q.types.includes(e.type))).slice(0, q.limit),
    appendEvents: async (list) => list.map(add),
  };
  return { store, events, add };
}

const open: TrackingRef = { kind: 'open', account: 'acme', messageId: ID, recipient: 'bob@dest.example' };
const click: TrackingRef = { ...open, kind: 'click', url: 'https://shop.example/p' };

test('the first open is unique, the next is not; the event carries the message data, ip and user agent', async () => {
  const meta: MessageMeta = { account: 'acme', tags: ['spring'], metadata: { campaign: 'c1' }, stream: 'broadcast' };
  const mem = memoryStore(meta);
  let now = DELIVERED_AT + 600_000;
  const recorder = new TrackingRecorder(mem.store, { now: () => now });
  const first = await recorder.record(open, { ip: '198.51.100.7', userAgent: CHROME });
  now += 1000;
  const second = await recorder.record({ ...open, recipient: 'BOB@dest.example' }, { ip: '198.51.100.7', userAgent: CHROME });
  assert.equal(first.type, 'opened');
  assert.deepEqual(first.data, { tags: ['spring'], metadata: { campaign: 'c1' }, stream: 'broadcast', ip: '198.51.100.7', userAgent: CHROME, unique: true, machine: false, agent: null });
  assert.equal(second.data.unique, false);
  assert.deepEqual(metricsOf(first.type, first.data), ['opened', 'opened_unique']);
  assert.deepEqual(metricsOf(second.type, second.data), ['opened']);
});

test('concurrent fetches on one node: exactly one is unique', async () => {
  const mem = memoryStore(null);
  const recorder = new TrackingRecorder(mem.store, { now: () => DELIVERED_AT });
  const all = await Promise.all([1, 2, 3, 4].map(() => recorder.record(click, { ip: '198.51.100.7', userAgent: CHROME })));
  assert.deepEqual(all.map((e) => e.data.unique), [true, false, false, false]);
});

test('a click within seconds of the delivered event is a machine; the url is in the data; unique among people and among machines apart', async () => {
  const mem = memoryStore({ account: 'other', tags: ['x'], metadata: {}, stream: 'broadcast' });
  mem.add({ at: DELIVERED_AT, account: 'acme', type: 'delivered', messageId: ID, recipient: 'bob@dest.example', data: {} });
  let now = DELIVERED_AT + 3_000;
  const recorder = new TrackingRecorder(mem.store, { now: () => now });
  const scanner = await recorder.record(click, { ip: '203.0.113.9', userAgent: CHROME });
  assert.deepEqual(scanner.data, { url: 'https://shop.example/p', ip: '203.0.113.9', userAgent: CHROME, unique: true, machine: true, agent: 'too-fast' },
    'no tags of a message of another account');
  assert.deepEqual(metricsOf(scanner.type, scanner.data), ['clicked', 'clicked_machine']);
  now = DELIVERED_AT + 120_000;
  const person = await recorder.record(click, { ip: '198.51.100.7', userAgent: CHROME });
  assert.equal(person.data.machine, false);
  assert.equal(person.data.unique, true, 'the person\'s first click counts even after the scanner\'s');
  assert.deepEqual(metricsOf(person.type, person.data), ['clicked', 'clicked_unique']);
  const again = await recorder.record(click, { ip: '198.51.100.7', userAgent: CHROME });
  assert.equal(again.data.unique, false);
  const mpp = await recorder.record(open, { ip: '17.58.1.1', userAgent: 'Mozilla/5.0' });
  assert.deepEqual([mpp.data.unique, mpp.data.machine, mpp.data.agent], [true, true, 'apple-mpp']);
});

test('a very long user agent is cut', async () => {
  const mem = memoryStore(null);
  const e = await new TrackingRecorder(mem.store, { now: () => DELIVERED_AT }).record(open, { ip: '198.51.100.7', userAgent: `Mozilla/5.0 ${'x'.repeat(5000)}` });
  assert.equal((e.data.userAgent as string).length, 512);
});
