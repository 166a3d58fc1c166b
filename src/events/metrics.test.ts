import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics, type MetricsStore } from './metrics.js';
import type { QueueCounts } from '../store/store.js';

const COUNTS: QueueCounts = { queued: 3, deferred: 2, delivering: 1, held: 0, delivered: 10, bounced: 1, expired: 0, suppressed: 0 };

function fakeStore(over: Partial<MetricsStore> = {}) {
  const calls = { counts: 0, queueDepth: 0 };
  const store: MetricsStore = {
    counts: async () => { calls.counts++; return { ...COUNTS }; },
    queueDepth: async () => { calls.queueDepth++; return { queued: COUNTS.queued, deferred: COUNTS.deferred, delivering: COUNTS.delivering, held: COUNTS.held }; },
    ...over,
  };
  return { store, calls };
}

/** The value of one sample line, e.g. sample(text, 'postlane_deliveries_total{account="acme",domain="x",outcome="delivered"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics', () => {
  it('renders the Prometheus text format with process metrics and its own registry', async () => {
    const { store } = fakeStore();
    const m = new Metrics({ store });
    assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
    const text = await m.render();
    assert.match(text, /# TYPE postlane_messages_accepted_total counter/);
    assert.match(text, /# TYPE postlane_delivery_latency_seconds histogram/);
    assert.match(text, /process_cpu_user_seconds_total/);
    assert.match(text, /nodejs_eventloop_lag_seconds/);
    // a second instance has its own registry: no "already registered" error
    assert.doesNotThrow(() => new Metrics({ store, processMetrics: false }));
  });

  it('counts accepted messages by account and listener', async () => {
    const m = new Metrics({ store: fakeStore().store, processMetrics: false });
    m.countAccepted('acme', 'submission');
    m.countAccepted('acme', 'submission');
    m.countAccepted(undefined, 'http');
    const text = await m.render();
    assert.equal(sample(text, 'postlane_messages_accepted_total{account="acme",listener="submission"}'), 2);
    assert.equal(sample(text, 'postlane_messages_accepted_total{account="default",listener="http"}'), 1);
  });

  it('counts delivery outcomes by account (carried by the job), domain and outcome; latency for final outcomes', async () => {
    const { store } = fakeStore();
    let now = 100_000;
    const m = new Metrics({ store, processMetrics: false, clock: { now: () => now } });
    const job = { domain: 'Example.NET', receivedAt: 100_000 - 2_000, account: 'acme' };
    m.observeDeliveries(job, [{ status: 'delivered' }, { status: 'deferred' }], 150);
    now += 60_000;
    m.observeDeliveries(job, [{ status: 'bounced' }], 80);
    m.observeDeliveries({ domain: 'other.test', receivedAt: 0, account: 'given' }, [{ status: 'expired' }]);
    const text = await m.render();
    assert.equal(sample(text, 'postlane_deliveries_total{account="acme",domain="example.net",outcome="delivered"}'), 1);
    assert.equal(sample(text, 'postlane_deliveries_total{account="acme",domain="example.net",outcome="deferred"}'), 1);
    assert.equal(sample(text, 'postlane_deliveries_total{account="acme",domain="example.net",outcome="bounced"}'), 1);
    assert.equal(sample(text, 'postlane_deliveries_total{account="given",domain="other.test",outcome="expired"}'), 1);
    assert.equal(sample(text, 'postlane_delivery_latency_seconds_count{outcome="delivered"}'), 1);
    assert.equal(sample(text, 'postlane_delivery_latency_seconds_sum{outcome="delivered"}'), 2);
    assert.equal(sample(text, 'postlane_delivery_latency_seconds_sum{outcome="bounced"}'), 62);
    assert.equal(sample(text, 'postlane_delivery_latency_seconds_count{outcome="deferred"}'), undefined, 'deferred is not final');
    assert.equal(sample(text, 'postlane_delivery_attempt_duration_seconds_count{outcome="delivered"}'), 1);
    assert.equal(sample(text, 'postlane_delivery_attempt_duration_seconds_sum{outcome="bounced"}'), 0.08);
  });

  it('counts attempts moved to the slow lane by domain, and shows the scheduler\'s lanes once watched', async () => {
    const m = new Metrics({ store: fakeStore().store, processMetrics: false });
    assert.equal(sample(await m.render(), 'postlane_delivery_attempts_running{lane="fast"}'), undefined, 'not watched: no sample');
    m.observeSlowAttempt('Evil.test');
    m.observeSlowAttempt('evil.test');
    m.watchLanes(() => ({ fast: 3, slow: 7 }));
    const text = await m.render();
    assert.equal(sample(text, 'postlane_delivery_slow_attempts_total{domain="evil.test"}'), 2);
    assert.equal(sample(text, 'postlane_delivery_attempts_running{lane="fast"}'), 3);
    assert.equal(sample(text, 'postlane_delivery_attempts_running{lane="slow"}'), 7);
  });

  it('collapses recipient domains beyond maxDomainLabels into "other"', async () => {
    const m = new Metrics({ store: fakeStore().store, processMetrics: false, maxDomainLabels: 2 });
    for (const d of ['a.test', 'b.test', 'c.test', 'a.test', 'd.test']) m.observeDeliveries({ domain: d, receivedAt: 0, account: 'default' }, [{ status: 'delivered' }]);
    const text = await m.render();
    assert.equal(sample(text, 'postlane_deliveries_total{account="default",domain="a.test",outcome="delivered"}'), 2);
    assert.equal(sample(text, 'postlane_deliveries_total{account="default",domain="b.test",outcome="delivered"}'), 1);
    assert.equal(sample(text, 'postlane_deliveries_total{account="default",domain="other",outcome="delivered"}'), 2);
    assert.equal(sample(text, 'postlane_deliveries_total{account="default",domain="c.test",outcome="delivered"}'), undefined);
  });

  it('reads queue depth from the store on scrape, cached for a few seconds; a store error keeps the last values', async () => {
    let now = 0;
    let fail = false;
    const { store, calls } = fakeStore();
    const queueDepth = store.queueDepth;
    store.queueDepth = () => (fail ? Promise.reject(new Error('down')) : queueDepth());
    const m = new Metrics({ store, processMetrics: false, clock: { now: () => now }, queueDepthCacheMs: 5000 });
    const first = await m.render();
    assert.equal(sample(first, 'postlane_queue_depth{state="queued"}'), 3);
    assert.equal(sample(first, 'postlane_queue_depth{state="delivering"}'), 1);
    assert.equal(sample(first, 'postlane_queue_depth{state="delivered"}'), 10);
    await m.render();
    now += 4000;
    await m.render();
    assert.equal(calls.queueDepth, 1, 'cached');
    now += 2000;
    fail = true;
    const stale = await m.render();
    assert.equal(sample(stale, 'postlane_queue_depth{state="queued"}'), 3, 'the scrape still succeeds');
    fail = false;
    await m.render();
    assert.equal(calls.queueDepth, 2, 'an error is not cached');
  });

  it('scrapes read the light queue depth; the finished states are counted at most every 5 minutes', async () => {
    let now = 0;
    let depth = { queued: 3, deferred: 2, delivering: 1, held: 0 };
    let finished = { ...COUNTS };
    const calls = { counts: 0, queueDepth: 0 };
    const store: MetricsStore = {
      queueDepth: async () => { calls.queueDepth++; return { ...depth }; },
      counts: async () => { calls.counts++; return { ...finished, queued: -1, deferred: -1, delivering: -1, held: -1 }; },
    };
    const m = new Metrics({ store, processMetrics: false, clock: { now: () => now } });
    const text = await m.render();
    assert.match(text, /^# HELP postlane_queue_depth .*delivering \(in flight\).*counted at most every 300 s$/m, 'the help text says how fresh each state is');
    assert.equal(calls.counts, 1, 'the first scrape counts the finished ones');
    // every scrape for 5 minutes (Prometheus' 15 s, the 5 s cache): the light read only
    for (let i = 1; i <= 19; i++) {
      now += 15_000;
      depth = { queued: i, deferred: 2 * i, delivering: i % 3, held: 1 };
      finished = { ...finished, delivered: 10 + i };
      const t = await m.render();
      assert.equal(sample(t, 'postlane_queue_depth{state="queued"}'), i, 'waiting states: the light read, never counts()\'s');
      assert.equal(sample(t, 'postlane_queue_depth{state="deferred"}'), 2 * i);
      assert.equal(sample(t, 'postlane_queue_depth{state="delivering"}'), i % 3);
      assert.equal(sample(t, 'postlane_queue_depth{state="held"}'), 1);
      assert.equal(sample(t, 'postlane_queue_depth{state="delivered"}'), 10, 'finished: the count of the first scrape');
    }
    assert.equal(calls.queueDepth, 20);
    assert.equal(calls.counts, 1, 'no count of the finished ones within 5 minutes');
    now += 15_000; // 300 s after the first scrape
    const later = await m.render();
    assert.equal(calls.counts, 2);
    assert.equal(sample(later, 'postlane_queue_depth{state="delivered"}'), 29);
    assert.equal(sample(later, 'postlane_queue_depth{state="bounced"}'), 1);
    assert.equal(sample(later, 'postlane_queue_depth{state="queued"}'), 19, 'still the light read');
  });

  it('counts webhook POSTs and failures by account', async () => {
    const m = new Metrics({ store: fakeStore().store, processMetrics: false });
    m.observeWebhookAttempt('acme', true);
    m.observeWebhookAttempt('acme', false);
    m.observeWebhookAttempt('acme', false);
    const text = await m.render();
    assert.equal(sample(text, 'postlane_webhook_deliveries_total{account="acme",outcome="ok"}'), 1);
    assert.equal(sample(text, 'postlane_webhook_deliveries_total{account="acme",outcome="failed"}'), 2);
    assert.equal(sample(text, 'postlane_webhook_failures_total{account="acme"}'), 2);
  });
});
