// Open and click tracking end to end, over real sockets: a message that asks for tracking (SMTP:
// X-Postlane-Track; HTTP API: `track`) reaches the test MX with its HTML links sent through
// /t/c/ redirects and a pixel, as valid MIME with the same text in every part (mailparser), signed
// after the rewrite (python3-dkim verifies); fetching the pixel and a link records opened/clicked
// events (the first unique, Apple's MPP proxy and a script recognised as machines), the redirect
// goes to the original URL, a tampered link is 404 and no redirect; /v1/stats counts them; a
// message to two recipients is not tracked.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { Submitter } from '../helpers/smtp-client.js';
import { pythonVerify } from '../helpers/python-dkim.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';

const skipPython = await skipUnless(TOOLS.pythonDkim);

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const TEXT = 'Spring sale: https://shop.acme.test/sale?utm=mail&x=1\nWrite to us: sales@acme.test';
const HTML = '<html><body><h1>Spring sale</h1><p>Everything -20%, café included. '.concat('More words to make long lines. '.repeat(8),
  '<a href="https://shop.acme.test/sale?utm=mail&amp;x=1">Shop now</a> or <a href="mailto:sales@acme.test">write to us</a>.</p>',
  '<!-- <a href="https://hidden.acme.test/">not a link</a> --></body></html>');

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** The tracked HTML with the pixel removed and every redirect put back to the link it carries. */
async function untracked(html: string, followed: (url: string) => Promise<string>): Promise<string> {
  let out = html.replace(/<img src="[^"]*\/t\/o\/[^"]+\.gif"[^>]*>/, '');
  for (const [, url] of html.matchAll(/href="(http:\/\/127\.0\.0\.1:\d+\/t\/c\/[^"]+)"/g)) out = out.replace(url!, (await followed(url!)).replace(/&/g, '&amp;'));
  return out;
}

test('open and click tracking: SMTP header and API field, valid signed MIME, events, stats, no open redirect', { skip: skipPython }, async (t) => {
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'dest.test': { MX: [{ exchange: 'mx.dest.test', priority: 10 }] }, 'mx.dest.test': { A: ['127.0.0.2'] } });
  const httpPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}`;
  const relay = await RelayProcess.create({ dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port }, http: { host: '127.0.0.1', port: httpPort }, publicUrl: base });
  t.after(async () => { await relay.cleanup(); await mx.close(); await dns.close(); });
  const added = await relay.cli(['domains', 'add', 'acme.test', '--key', 'both', '--selector', 's1', '--json']);
  assert.equal(added.code, 0, added.stderr);
  for (const r of JSON.parse(added.stdout).records as { name: string; type: string; value: string }[]) {
    if (r.type === 'TXT') dns.set(r.name, 'TXT', [r.value.match(/.{1,250}/g)!]);
  }
  assert.equal((await relay.cli(['users', 'add', 'alice', '--password', 'alice-password', '--domain', 'acme.test'])).code, 0);
  const key = JSON.parse((await relay.cli(['keys', 'create', '--account', 'default', '--scope', 'admin', '--json'])).stdout).token as string;
  await relay.start();
  const submitter = new Submitter({ port: relay.port('submission'), user: 'alice', pass: 'alice-password' });
  t.after(() => submitter.close());
  const api = async (path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    return res.json() as Promise<Record<string, unknown> & { data: Record<string, unknown>[] }>;
  };
  const received = (subject: string) => eventually(() => mx.messages.find((m) => m.body.toString().includes(`Subject: ${subject}\r\n`)));
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

  // Two recipients: sent as it is, the skip logged.
  await submitter.send('alice@acme.test', ['bob@dest.test', 'dave@dest.test'], original.toString().replace('Subject: sale smtp', 'Subject: sale two'));
  const two = await received('sale two');
  assert.doesNotMatch(two.body.toString(), /\/t\/[oc]\/|x-postlane-track/i);
  await relay.waitForLog((l) => l.event === 'tracking.skipped' && l.rcpts === 2);
});
