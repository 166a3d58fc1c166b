import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_FAILURE_GAP_MS, failingSinceFrom, isDueForDisable, nextWebhookRetryAt, webhookRetryDelayMs } from './webhook-retry.js';

const noJitter = () => 0.5;
const S = 1000, M = 60 * S, H = 60 * M;

describe('webhook retry policy', () => {
  it('backs off 5 s, 15 s, 1 min, 5 min, 15 min, then every hour', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 20].map((n) => webhookRetryDelayMs(n, noJitter));
    assert.deepEqual(delays, [5 * S, 15 * S, 1 * M, 5 * M, 15 * M, 1 * H, 1 * H, 1 * H]);
    assert.equal(webhookRetryDelayMs(0, noJitter), 5 * S, 'below 1 counts as 1');
  });

  it('jitters by ±20 %', () => {
    assert.equal(webhookRetryDelayMs(1, () => 0), 4 * S);
    assert.equal(webhookRetryDelayMs(1, () => 0.999999), 6 * S);
    assert.equal(webhookRetryDelayMs(6, () => 0), 48 * M);
  });

  it('retries until retryFor after the oldest event, the last try at the horizon, then gives up', () => {
    const firstDueAt = 1_000_000;
    const base = { firstDueAt, retryForMs: 24 * H, random: noJitter };
    assert.equal(nextWebhookRetryAt({ ...base, attempts: 0, now: firstDueAt }), firstDueAt + 5 * S);
    assert.equal(nextWebhookRetryAt({ ...base, attempts: 4, now: firstDueAt + M }), firstDueAt + M + 15 * M);
    assert.equal(nextWebhookRetryAt({ ...base, attempts: 30, now: firstDueAt + 23.5 * H }), firstDueAt + 24 * H, 'capped at the horizon');
    assert.equal(nextWebhookRetryAt({ ...base, attempts: 31, now: firstDueAt + 24 * H }), null);
    assert.equal(nextWebhookRetryAt({ ...base, attempts: 0, now: firstDueAt + 25 * H }), null, 'an event already too old');
  });

  it('a whole day of failures takes about 30 attempts', () => {
    const tries: number[] = [];
    for (let at: number | null = 0; at !== null;) {
      tries.push(at);
      at = nextWebhookRetryAt({ attempts: tries.length - 1, firstDueAt: 0, now: at, retryForMs: 24 * H, random: noJitter });
    }
    assert.deepEqual(tries.slice(0, 7), [0, 5 * S, 20 * S, 80 * S, 380 * S, 1280 * S, 1280 * S + H]);
    assert.equal(tries.at(-1), 24 * H, 'the last try is at the horizon');
    assert.equal(tries.length, 30);
  });

  it('disables after disableAfter of continuous failure', () => {
    assert.equal(isDueForDisable(0, 24 * H - 1, 24 * H), false);
    assert.equal(isDueForDisable(0, 24 * H, 24 * H), true);
  });

  it('finds the start of the current failure run in the attempt log', () => {
    const log = [
      { at: 50, ok: false }, { at: 10, ok: false }, { at: 40, ok: false }, { at: 30, ok: true }, { at: 20, ok: false },
    ];
    assert.equal(failingSinceFrom(log, 100), 40);
    assert.equal(failingSinceFrom([{ at: 60, ok: true }], 100), 100);
    assert.equal(failingSinceFrom([], 100), 100);
    assert.equal(failingSinceFrom([{ at: 5, ok: false }, { at: 7, ok: false }], 100), 5, 'no success in the log: the oldest failure');
  });

  it('a run of failures ends at a gap longer than twice the longest backoff (nothing to send meanwhile)', () => {
    assert.equal(MAX_FAILURE_GAP_MS, 2.4 * H);
    const day = 24 * H;
    assert.equal(failingSinceFrom([{ at: 0, ok: false }, { at: 2 * day, ok: false }], 2 * day + H), 2 * day, 'an old failure before a quiet day does not count');
    assert.equal(failingSinceFrom([{ at: 0, ok: false }], 3 * H), 3 * H, 'one old failure: not failing now');
    const hourly = Array.from({ length: 25 }, (_, i) => ({ at: i * H, ok: false }));
    assert.equal(failingSinceFrom(hourly, 25 * H), 0, 'hourly retries are one run');
  });
});
