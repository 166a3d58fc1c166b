// Open and click tracking end to end, over real sockets: a message that asks for tracking (SMTP:
// X-Postlane-Track; HTTP API: `track`) reaches the test MX with its HTML links sent through
// /t/c/ redirects and a pixel, as valid MIME with the same text in every part (mailparser), signed
// after the rewrite (python3-dkim verifies); fetching the pixel and a link records opened/clicked
// events (the first unique, Apple's MPP proxy and a script recognised as machines), the redirect
// goes to the original URL, a tampered link is 404 and no redirect; /v1/stats counts them.
// A tracked broadcast message to three recipients (one of them Bcc), over SMTP and over the API,
// is split into one copy per recipient: each copy reaching the MX has its own pixel, links and
// List-Unsubscribe, no Bcc field, a signature python3-dkim verifies; one copy's pixel records an
// open for its recipient only, one copy's one-click POST suppresses its recipient only; a
// recipient suppressed then is reported so by the next split and its copy never sent. Run on
// SQLite and on PostgreSQL (skipped without the server, except under CI).
import test from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { eventually } from '../helpers/relay-process.js';
import { startMailRig } from '../helpers/relay-rig.js';
import { pythonVerify } from '../helpers/python-dkim.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { freshDatabase } from '../helpers/postgres.js';
import { freePort } from '../helpers/free-port.js';

const skipPython = await skipUnless(TOOLS.pythonDkim);
const skipPostgres = await skipUnless(TOOLS.pythonDkim, TOOLS.postgres);

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const TEXT = 'Spring sale: https://shop.acme.test/sale?utm=mail&x=1\nWrite to us: sales@acme.test';
const HTML = '<html><body><h1>Spring sale</h1><p>Everything -20%, café included. '.concat('More words to make long lines. '.repeat(8),
  '<a href="https://shop.acme.test/sale?utm=mail&amp;x=1">Shop now</a> or <a href="mailto:sales@acme.test">write to us</a>.</p>',
  '<!-- <a href="https://hidden.acme.test/">not a link</a> --></body></html>');

/** The tracked HTML with the pixel removed and every redirect put back to the link it carries. */
async function untracked(html: string, followed: (url: string) => Promise<string>): Promise<string> {
  let out = html.replace(/<img src="[^"]*\/t\/o\/[^"]+\.gif"[^>]*>/, '');
  for (const [, url] of html.matchAll(/href="(http:\/\/127\.0\.0\.1:\d+\/t\/c\/[^"]+)"/g)) out = out.replace(url!, (await followed(url!)).replace(/&/g, '&amp;'));
  return out;
}

/** A relay with acme.test (DKIM keys in the test DNS), SMTP user alice, an admin API key, and a test MX for dest.test. */
async function startRelay(t: test.TestContext, storage?: { url: string }) {
  const httpPort = await freePort(); // the links in the mail name it (publicUrl)
  const base = `http://127.0.0.1:${httpPort}`;
  const rig = await startMailRig(t, {
    config: { http: { host: '127.0.0.1', port: httpPort }, publicUrl: base, ...(storage ? { storage } : {}) },
    provision: (r) => r.relay.addSigningDomain(r.dns, 'acme.test'),
    adminKey: true,
  });
  const api = async (path: string, body?: unknown) => (await rig.api(path, { body })).body as Record<string, unknown> & { data: Record<string, unknown>[] };
  return { ...rig, base, api };
}

test('open and click tracking: SMTP header and API field, valid signed MIME, events, stats, no open redirect', { skip: skipPython }, async (t) => {
  const { dns, submitter, api, received } = await startRelay(t);
  const get = (url: string, userAgent = CHROME) => fetch(url, { redirect: 'manual', headers: { 'user-agent': userAgent } });
  /** Where a link leads, asked with HEAD: records nothing. */
  const location = async (url: string) => (await fetch(url, { method: 'HEAD', redirect: 'manual' })).headers.get('location')!;

  // Over SMTP: a multipart/alternative message (quoted-printable HTML) asking with X-Postlane-Track.
  const original = await new MailComposer({
    from: 'alice@acme.test', to: 'bob@dest.test', subject: 'sale smtp', text: TEXT, html: HTML, headers: { 'X-Postlane-Track': 'opens, clicks' },
  }).compile().build();
  await submitter.send('alice@acme.test', ['bob@dest.test'], original);
  const smtp = await received('sale smtp');
  assert.doesNotMatch(smtp.body.toString(), /x-postlane-track/i, 'the request field never leaves the relay');
  const [before, after] = await Promise.all([simpleParser(original), simpleParser(smtp.body)]);
  assert.equal(after.text, before.text, 'the text/plain part is the same');
  const html = after.html as string;
  const links = [...html.matchAll(/href="(http:\/\/127\.0\.0\.1:\d+\/t\/c\/[^"]+)"/g)].map((m) => m[1]!);
  const pixel = /<img src="(http:\/\/127\.0\.0\.1:\d+\/t\/o\/[^"]+\.gif)"/.exec(html)?.[1];
  assert.equal(links.length, 1, html);
  assert.ok(pixel, html);
  assert.ok(html.includes('href="mailto:sales@acme.test"') && html.includes('<!-- <a href="https://hidden.acme.test/">'), 'mailto: and comments left alone');
  assert.equal(await untracked(html, location), before.html, 'the text/html part is the same but for the links and the pixel');
  assert.deepEqual(await pythonVerify(dns.port, smtp.body, 2), ['pass', 'pass'], 'python3-dkim verifies the rewritten message');

  // Over the HTTP API: the track field.
  const sent = await api('/v1/messages', { from: 'alice@acme.test', to: ['carol@dest.test'], subject: 'sale api', text: TEXT, html: HTML, track: { opens: true, clicks: true }, tags: ['spring'] });
  const viaApi = await received('sale api');
  const apiParsed = await simpleParser(viaApi.body);
  assert.equal(apiParsed.text, before.text);
  const apiHtml = apiParsed.html as string;
  assert.equal(await untracked(apiHtml, location), before.html);
  assert.deepEqual(await pythonVerify(dns.port, viaApi.body, 2), ['pass', 'pass']);
  const apiLink = /href="(http:\/\/127\.0\.0\.1:\d+\/t\/c\/[^"]+)"/.exec(apiHtml)![1]!;
  const apiPixel = /<img src="(http:\/\/127\.0\.0\.1:\d+\/t\/o\/[^"]+\.gif)"/.exec(apiHtml)![1]!;

  // Opens: Apple's MPP proxy first (unique among machines), then the reader (unique among people), then the reader again.
  const gif = await get(pixel!, 'Mozilla/5.0');
  assert.deepEqual([gif.status, gif.headers.get('content-type'), (await gif.arrayBuffer()).byteLength], [200, 'image/gif', 43]);
  assert.match(gif.headers.get('cache-control')!, /no-store/);
  assert.equal((await get(pixel!)).status, 200);
  assert.equal((await get(pixel!)).status, 200);
  const opens = (await api('/v1/events?type=opened&recipient=bob@dest.test')).data;
  assert.deepEqual(opens.map((e) => { const d = e.data as Record<string, unknown>; return [d.unique, d.machine, d.agent, d.userAgent]; }),
    [[true, true, 'apple-mpp', 'Mozilla/5.0'], [true, false, null, CHROME], [false, false, null, CHROME]]);
  assert.equal(opens[0]!.message_id, smtp.body.toString().match(/\(Postlane\) with \w+ id (\w{20})/)![1]);

  // Clicks: 302 to the original link; the first is unique; a script is a machine.
  const click = await get(links[0]!);
  assert.deepEqual([click.status, click.headers.get('location')], [302, 'https://shop.acme.test/sale?utm=mail&x=1']);
  assert.equal((await get(links[0]!, 'python-requests/2.31.0')).status, 302);
  const clicks = (await api('/v1/events?type=clicked&recipient=bob@dest.test')).data.map((e) => e.data as Record<string, unknown>);
  assert.ok(clicks[0]!.agent === null || clicks[0]!.agent === 'too-fast', 'a person, or a click within seconds of delivery');
  // Unique among people and among machines apart: the script's click is the first machine one unless the first click was too fast.
  assert.deepEqual(clicks.map((d) => [d.url, d.unique]), [['https://shop.acme.test/sale?utm=mail&x=1', true], ['https://shop.acme.test/sale?utm=mail&x=1', clicks[0]!.agent === null]]);
  assert.deepEqual([clicks[1]!.machine, clicks[1]!.agent], [true, 'http-library']);

  // The API message: its events carry its tags.
  assert.equal((await get(apiPixel)).status, 200);
  assert.equal((await get(apiLink)).status, 302);
  const carol = (await api(`/v1/events?message_id=${sent.id as string}&type=opened,clicked`)).data;
  assert.deepEqual(carol.map((e) => [e.type, (e.data as Record<string, unknown>).unique, (e.data as Record<string, unknown>).tags]), [['opened', true, ['spring']], ['clicked', true, ['spring']]]);

  // A tampered link or pixel: 404, never a redirect.
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');
  const tampered = links[0]!.slice(0, -5) + flip(links[0]!.at(-5)!) + links[0]!.slice(-4);
  const bad = await get(tampered);
  assert.deepEqual([bad.status, bad.headers.get('location')], [404, null]);
  assert.equal((await get(pixel!.replace('.gif', 'A.gif'))).status, 404);
  assert.equal((await api('/v1/events?type=clicked')).data.length, 3, 'nothing recorded for them');

  // Statistics: the counters agree with a tally of the events.
  const counts = ((await api('/v1/stats')).total as { counts: Record<string, number> }).counts;
  const all = (await api('/v1/events?type=opened,clicked')).data.map((e) => ({ type: e.type as string, ...(e.data as { unique: boolean; machine: boolean }) }));
  const tally = (type: string, pick: (d: { unique: boolean; machine: boolean }) => boolean) => all.filter((e) => e.type === type && pick(e)).length;
  assert.deepEqual([counts.opened, counts.opened_unique, counts.opened_machine], [4, 2, 1]);
  assert.deepEqual([counts.clicked, counts.clicked_unique, counts.clicked_machine],
    [3, tally('clicked', (d) => d.unique && !d.machine), tally('clicked', (d) => d.unique && d.machine)]);
});

/** The JSON a token (tracking or unsubscribe) carries: base64url(JSON).MAC. */
const tokenData = (url: string): Record<string, string> => JSON.parse(Buffer.from(/\/([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+(?:\.gif)?$/.exec(url)![1]!, 'base64url').toString());

for (const store of ['sqlite', 'postgres'] as const) test(`${store}: a tracked broadcast to three recipients (one Bcc), over SMTP and the API: one signed copy each, own tokens, events and unsubscribe per recipient`, { skip: store === 'sqlite' ? skipPython : skipPostgres }, async (t) => {
  const { dns, mx, relay, submitter, api } = await startRelay(t, store === 'postgres' ? { url: await freshDatabase(t) } : undefined);
  const post = (url: string) => fetch(url, { method: 'POST', redirect: 'manual', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const copiesOf = (subject: string) => eventually(() => {
    const got = mx.messages.filter((m) => m.body.toString().includes(`Subject: ${subject}\r\n`));
    return got.length >= 3 ? got : null;
  });
  /** Each copy: one recipient, no Bcc, its own pixel, link and List-Unsubscribe naming that recipient and copy, both signatures pass. */
  async function checkCopies(subject: string, queuedIds: string[]) {
    const copies = await copiesOf(subject);
    assert.deepEqual(copies.map((c) => c.rcptTo).sort(), [['bob@dest.test'], ['carol@dest.test'], ['dave@dest.test']], subject);
    const seen = new Set<string>();
    const byRecipient = new Map<string, { id: string; pixel: string; unsubscribe: string }>();
    for (const c of copies) {
      const raw = c.body.toString();
      const who = c.rcptTo[0]!;
      assert.doesNotMatch(raw.split('\r\n\r\n')[0]!, /^bcc:|x-postlane|secret@/im, `${who}: no Bcc field, no control field`);
      const id = /\(Postlane\) with \w+ id (\w{20})/.exec(raw)![1]!;
      const html = (await simpleParser(c.body)).html as string;
      const pixel = /<img src="(http:\/\/127\.0\.0\.1:\d+\/t\/o\/[^"]+\.gif)"/.exec(html)![1]!;
      const link = /href="(http:\/\/127\.0\.0\.1:\d+\/t\/c\/[^"]+)"/.exec(html)![1]!;
      const unsubscribe = /\r\nList-Unsubscribe: <(http:\/\/127\.0\.0\.1:\d+\/u\/[^>]+)>/.exec(raw)![1]!;
      for (const url of [pixel, link, unsubscribe]) {
        const d = tokenData(url);
        assert.deepEqual([d.r, d.m], [who, id], `${who}: ${url}`);
        assert.ok(!seen.has(url), 'a token of its own');
        seen.add(url);
      }
      assert.deepEqual(await pythonVerify(dns.port, c.body, 2), ['pass', 'pass'], `python3-dkim verifies ${who}'s copy`);
      byRecipient.set(who, { id, pixel, unsubscribe });
    }
    assert.deepEqual([...byRecipient.values()].map((c) => c.id).sort(), [...queuedIds].sort(), 'the ids the client was told');
    return byRecipient;
  }

  // Over SMTP: dave is Bcc (in the envelope and, as some clients leave it, in a Bcc field).
  const composed = await new MailComposer({
    from: 'alice@acme.test', to: 'bob@dest.test', cc: 'carol@dest.test', subject: 'split smtp', text: TEXT, html: HTML,
    headers: { 'X-Postlane-Track': 'opens, clicks', 'X-Postlane-Stream': 'broadcast' },
  }).compile().build();
  const smtpMessage = Buffer.concat([Buffer.from('Bcc: dave@dest.test,\r\n secret@dest.test\r\n'), composed]);
  const answer = await submitter.send('alice@acme.test', ['bob@dest.test', 'carol@dest.test', 'dave@dest.test'], smtpMessage);
  const [, first] = /^250 2\.0\.0 Ok: queued as (\w{20}) \(\+2 more, one per recipient\)$/.exec(answer) ?? [];
  assert.ok(first, answer);
  const accepted = await relay.waitForLog((l) => l.event === 'smtp.accepted' && l.id === first);
  assert.equal((accepted.ids as string[]).length, 3);
  assert.equal((accepted.ids as string[])[0], first);
  const smtp = await checkCopies('split smtp', accepted.ids as string[]);

  // Over the API: dave in bcc; each recipient entry names its own copy.
  const sent = await api('/v1/messages', {
    from: 'alice@acme.test', to: ['bob@dest.test'], cc: ['carol@dest.test'], bcc: ['dave@dest.test'], subject: 'split api', text: TEXT, html: HTML,
    stream: 'broadcast', track: { opens: true, clicks: true }, tags: ['spring'],
  });
  const entries = sent.recipients as { email: string; id: string; message_id: string; status: string }[];
  assert.deepEqual(entries.map((e) => [e.email, e.status, e.id === `${e.message_id}.0`]), [['bob@dest.test', 'queued', true], ['carol@dest.test', 'queued', true], ['dave@dest.test', 'queued', true]]);
  assert.equal(entries[0]!.message_id, sent.id);
  const viaApi = await checkCopies('split api', entries.map((e) => e.message_id));
  for (const e of entries) assert.equal(viaApi.get(e.email)!.id, e.message_id);

  // Every copy has its own accepted event, with the request's tags and stream.
  const acceptedEvents = (await api('/v1/events?type=accepted')).data;
  for (const e of entries) {
    const mine = acceptedEvents.filter((x) => x.message_id === e.message_id);
    assert.deepEqual(mine.map((x) => [x.recipient, (x.data as Record<string, unknown>).tags, (x.data as Record<string, unknown>).stream]), [[e.email, ['spring'], 'broadcast']]);
  }

  // Carol opens her SMTP copy: one opened event, hers, for her copy only.
  assert.equal((await fetch(smtp.get('carol@dest.test')!.pixel, { headers: { 'user-agent': CHROME } })).status, 200);
  const opened = await eventually(async () => { const d = (await api('/v1/events?type=opened')).data; return d.length ? d : null; });
  assert.deepEqual(opened.map((e) => [e.recipient, e.message_id]), [['carol@dest.test', smtp.get('carol@dest.test')!.id]]);

  // Bob unsubscribes with his API copy's one-click link: only bob is suppressed.
  assert.equal((await post(viaApi.get('bob@dest.test')!.unsubscribe)).status, 200);
  assert.deepEqual((await api('/v1/suppressions')).data.map((e) => [e.email, e.scope, e.reason]), [['bob@dest.test', 'broadcast', 'unsubscribe']]);
  const unsubscribed = (await api('/v1/events?type=unsubscribed')).data;
  assert.deepEqual(unsubscribed.map((e) => [e.recipient, e.message_id]), [['bob@dest.test', viaApi.get('bob@dest.test')!.id]]);

  // The next split broadcast reports bob suppressed (his copy stored final, never sent); carol's copy goes.
  const again = await api('/v1/messages', { from: 'alice@acme.test', to: ['bob@dest.test', 'carol@dest.test'], subject: 'split again', html: HTML, stream: 'broadcast', track: { opens: true } });
  const againEntries = again.recipients as { email: string; message_id: string; status: string; suppression?: { reason: string } }[];
  assert.deepEqual(againEntries.map((e) => [e.email, e.status, e.suppression?.reason]), [['bob@dest.test', 'suppressed', 'unsubscribe'], ['carol@dest.test', 'queued', undefined]]);
  assert.notEqual(againEntries[0]!.message_id, againEntries[1]!.message_id);
  const bobCopy = await api(`/v1/messages/${againEntries[0]!.message_id}`);
  assert.deepEqual((bobCopy.recipients as { email: string; status: string }[]).map((r) => [r.email, r.status]), [['bob@dest.test', 'suppressed']]);
  await eventually(() => mx.messages.find((m) => m.body.toString().includes('Subject: split again\r\n') && m.rcptTo[0] === 'carol@dest.test'));
  await eventually(async () => {
    const carolCopy = await api(`/v1/messages/${againEntries[1]!.message_id}`);
    return (carolCopy.recipients as { email: string; status: string }[])[0]!.status === 'delivered' || null;
  });
  assert.ok(!mx.messages.some((m) => m.body.toString().includes('Subject: split again\r\n') && m.rcptTo.includes('bob@dest.test')), 'bob\'s copy was never sent');
});
