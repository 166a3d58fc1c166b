// effectsOf's statistics rows for an event's tags (countStats builds them by push since the
// twenty-third session, bench/README.md): each non-empty string tag once, in first-seen order,
// however long the list; anything else in data.tags is ignored.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS, effectsOf, type EffectEvent } from './event-effects.js';

const AT = Date.UTC(2026, 11, 7, 3, 30);
const event = (tags: unknown, recipient: string | null = 'a@example.com'): EffectEvent =>
  ({ at: AT, type: 'accepted', messageId: 'm1', recipient, data: { stream: 'broadcast', tags } });
const tagKeys = (e: EffectEvent) => effectsOf('acme', [e]).stats.filter((s) => s.grain === 'tag').map((s) => s.key);

describe('effectsOf: tag counters', () => {
  it('counts each tag once, ignoring empty and non-string entries', () => {
    assert.deepEqual(tagKeys(event(['b', 'a', 'b', '', 3, null, 'a'])), ['a', 'b']); // stats are sorted by key
    const rows = effectsOf('acme', [event(['x', 'x'])]).stats;
    assert.deepEqual(rows.map((s) => [s.grain, s.key, s.n]), [['domain', 'example.com', 1], ['hour', '', 1], ['tag', 'x', 1]]);
    assert.equal(rows.find((s) => s.grain === 'tag')!.bucket, Math.floor(AT / DAY_MS) * DAY_MS);
  });

  it('a long list (past the walk) gives the same rows as a short one would', () => {
    const tags = Array.from({ length: 40 }, (_, i) => `t${i % 25}`);
    assert.deepEqual(tagKeys(event(tags)), [...new Set(tags)].sort());
  });

  it('no tags, or tags that are not a list: hour and domain rows only; no recipient: no domain row', () => {
    for (const tags of [undefined, [], 'news', { 0: 'a' }]) {
      assert.deepEqual(effectsOf('acme', [event(tags)]).stats.map((s) => s.grain), ['domain', 'hour']);
    }
    assert.deepEqual(effectsOf('acme', [event(['a'], null)]).stats.map((s) => s.grain), ['hour', 'tag']);
  });
});
