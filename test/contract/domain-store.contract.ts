// The sending-domain part of the QueueStore contract (domains, DKIM keys, users' domain grants,
// the DKIM header prefix stored with a message), run by queueStoreContract against every
// implementation. Only the interface is used.
import assert from 'node:assert/strict';
import { NotFoundError, RelayError } from '../../src/errors.js';
import { newQueueId } from '../../src/message/ids.js';
import type { DkimKey, QueueStore, SendingDomain } from '../../src/store/store.js';

type It = (title: string, body: (store: QueueStore) => Promise<void>) => void;

const T0 = 1_700_000_000_000;
const PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE\n-----END PRIVATE KEY-----\n';

const key = (selector: string, over: Partial<DkimKey> = {}): DkimKey =>
  ({ selector, algorithm: 'rsa', privateKey: PEM, publicKey: `pub-${selector}`, createdAt: T0, state: 'active', ...over });

const domain = (name: string, keys: DkimKey[] = [key('s1')]): SendingDomain => ({ name, createdAt: T0, keys });

const hasCode = (code: string) => (err: unknown) => err instanceof RelayError && err.code === code;

const states = async (store: QueueStore, name: string) =>
  Object.fromEntries((await store.getDomain(name))!.keys.map((k) => [k.selector, k.state]));

async function putMessage(store: QueueStore, id: string, body: string, headerPrefix?: string): Promise<void> {
  const w = store.createBody(id);
  await w.write(Buffer.from(body));
  await w.finish();
  await store.put({
    id, mailFrom: 'a@example.com', recipients: ['b@example.net'], size: w.bytesWritten + (headerPrefix?.length ?? 0), receivedAt: T0,
    origin: { listener: 'submission', clientIp: '127.0.0.1', user: 'alice' }, isBounce: false, route: 'relay', ...(headerPrefix ? { headerPrefix } : {}),
  });
}

async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

export function domainStoreContract(it: It): void {
  it('headerPrefix (DKIM-Signature lines) is streamed by readBody before the body, and only for its message', async (store) => {
    const sig = 'DKIM-Signature: v=1; a=rsa-sha256; d=example.com;\r\n b=abc\r\n';
    const signed = newQueueId();
    const plain = newQueueId();
    await putMessage(store, signed, 'From: a@example.com\r\n\r\nhi\r\n', sig);
    await putMessage(store, plain, 'From: a@example.com\r\n\r\nho\r\n');
    assert.equal(await readAll(store.readBody(signed)), `${sig}From: a@example.com\r\n\r\nhi\r\n`);
    assert.equal(await readAll(store.readBody(plain)), 'From: a@example.com\r\n\r\nho\r\n');
    assert.equal((await store.readMessage(signed) as Buffer).toString('latin1'), `${sig}From: a@example.com\r\n\r\nhi\r\n`, 'readMessage: the prefix and the body in one Buffer');
    assert.equal((await store.readMessage(plain) as Buffer).toString('latin1'), 'From: a@example.com\r\n\r\nho\r\n');
    const [job] = await store.claimDue({ now: T0, limit: 10, leaseMs: 1000, owner: 'n', excludeDomains: [] }).then((j) => j.filter((x) => x.messageId === signed));
    assert.equal(job!.size, sig.length + 'From: a@example.com\r\n\r\nhi\r\n'.length, 'size as given: prefix included');
    await store.deleteMessage(signed);
    await assert.rejects(readAll(store.readBody(signed)), 'a deleted message has no body, prefix or not');
    await assert.rejects(store.readMessage(signed), { code: 'ERR_NOT_FOUND' });
  });


  it('domains: add, get (any case), list by name, remove; keys round-trip exactly', async (store) => {
    const b = domain('b.example', [key('s1'), key('s1-ed', { algorithm: 'ed25519', publicKey: 'x'.repeat(44), createdAt: T0 + 1 })]);
    await store.addDomain(b);
    await store.addDomain(domain('a.example'));
    assert.deepEqual(await store.getDomain('b.example'), { ...b, account: 'default' }, 'no account given: the default one');
    assert.deepEqual(await store.getDomain('B.Example'), { ...b, account: 'default' });
    assert.equal(await store.getDomain('c.example'), null);
    assert.deepEqual((await store.listDomains()).map((d) => [d.name, d.keys.map((k) => k.selector)]),
      [['a.example', ['s1']], ['b.example', ['s1', 's1-ed']]]);
    assert.equal(await store.removeDomain('b.example'), true);
    assert.equal(await store.removeDomain('b.example'), false);
    assert.deepEqual((await store.listDomains()).map((d) => d.name), ['a.example']);
    await store.addDomain(domain('b.example', []));
    assert.deepEqual((await store.getDomain('b.example'))!.keys, [], 'a removed domain takes its keys with it');
  });

  it('domains: a duplicate name is refused with ERR_DOMAIN_EXISTS and changes nothing', async (store) => {
    await store.addDomain(domain('example.com'));
    await assert.rejects(store.addDomain(domain('Example.com', [key('other')])), hasCode('ERR_DOMAIN_EXISTS'));
    assert.deepEqual((await store.getDomain('example.com'))!.keys.map((k) => k.selector), ['s1']);
  });

  it('addDkimKey: pending keys are added; unknown domain and used selector are refused', async (store) => {
    await store.addDomain(domain('example.com'));
    await store.addDkimKey('example.com', key('s2', { state: 'pending', createdAt: T0 + 5 }));
    assert.deepEqual(await states(store, 'example.com'), { s1: 'active', s2: 'pending' });
    await assert.rejects(store.addDkimKey('nope.example', key('s3')), (err: unknown) => err instanceof NotFoundError);
    await assert.rejects(store.addDkimKey('example.com', key('S2', { state: 'pending' })), hasCode('ERR_SELECTOR_EXISTS'));
    assert.equal((await store.getDomain('example.com'))!.keys.length, 2);
  });

  it('activateDkimKey retires the active key of the same algorithm only', async (store) => {
    await store.addDomain(domain('example.com', [key('r1'), key('e1', { algorithm: 'ed25519' })]));
    await store.addDkimKey('example.com', key('r2', { state: 'pending', createdAt: T0 + 1 }));
    assert.equal(await store.activateDkimKey('example.com', 'r2'), true);
    assert.deepEqual(await states(store, 'example.com'), { r1: 'retired', e1: 'active', r2: 'active' });
    assert.equal(await store.activateDkimKey('example.com', 'r2'), true, 'activating an active key is a no-op');
    assert.deepEqual(await states(store, 'example.com'), { r1: 'retired', e1: 'active', r2: 'active' });
    assert.equal(await store.activateDkimKey('example.com', 'zz'), false);
    assert.equal(await store.activateDkimKey('nope.example', 'r2'), false);
  });

  it('users: domain grants are stored lower-case and deduplicated, replaced by setUserDomains', async (store) => {
    await store.addUser({ name: 'alice', passwordHash: 'h', createdAt: T0, allowedDomains: ['Example.COM', 'example.com', 'b.org'] });
    await store.addUser({ name: 'root', passwordHash: 'h', createdAt: T0, anyDomain: true });
    assert.deepEqual(await store.getUser('alice'), { name: 'alice', passwordHash: 'h', createdAt: T0, allowedDomains: ['b.org', 'example.com'], anyDomain: false,
      account: 'default', limits: {}, defaultStream: 'transactional' });
    assert.deepEqual((await store.listUsers()).map((u) => [u.name, u.allowedDomains, u.anyDomain]),
      [['alice', ['b.org', 'example.com'], false], ['root', [], true]]);
    assert.equal(await store.setUserDomains('alice', { allowedDomains: ['c.net'], anyDomain: true }), true);
    assert.deepEqual(await store.getUser('alice').then((u) => [u!.allowedDomains, u!.anyDomain]), [['c.net'], true]);
    assert.equal(await store.setUserDomains('carol', { allowedDomains: ['c.net'], anyDomain: false }), false);
    assert.equal(await store.removeUser('alice'), true);
    await store.addUser({ name: 'alice', passwordHash: 'h', createdAt: T0 });
    assert.deepEqual(await store.getUser('alice').then((u) => [u!.allowedDomains, u!.anyDomain]), [[], false], 'a removed user takes its grant with it');
  });

  it('users: changeUser applies the grant, the limits and the stream together, or nothing', async (store) => {
    await store.addUser({ name: 'bob', passwordHash: 'h', createdAt: T0, allowedDomains: ['a.example'], limits: { perHour: 5 } });
    assert.equal(await store.changeUser('bob', { grant: { allowedDomains: ['B.example'], anyDomain: false }, limits: { perDay: 9 }, defaultStream: 'broadcast' }), true);
    const changed = await store.getUser('bob');
    assert.deepEqual([changed!.allowedDomains, changed!.limits, changed!.defaultStream], [['b.example'], { perDay: 9 }, 'broadcast']);
    assert.equal(await store.changeUser('bob', { limits: { perSecond: 1 } }), true, 'a part alone');
    assert.deepEqual(await store.getUser('bob').then((u) => [u!.allowedDomains, u!.limits, u!.defaultStream]), [['b.example'], { perSecond: 1 }, 'broadcast']);
    assert.equal(await store.changeUser('nobody', { limits: {} }), false);
    // A part the database refuses (the stream's CHECK) undoes the parts before it: one transaction.
    const bad = { grant: { allowedDomains: ['c.example'], anyDomain: true }, limits: { perDay: 1 }, defaultStream: 'bulk' as unknown as 'broadcast' };
    await assert.rejects(store.changeUser('bob', bad));
    assert.deepEqual(await store.getUser('bob').then((u) => [u!.allowedDomains, u!.anyDomain, u!.limits, u!.defaultStream]),
      [['b.example'], false, { perSecond: 1 }, 'broadcast']);
  });
}
