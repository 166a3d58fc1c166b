// The verification snippets of docs/webhooks.md, run as written: the Python one with python3 (an
// independent HMAC implementation) and the Node one as a module, against payloads that Postlane's
// signer produced. A change to the signature scheme that the docs do not follow fails here.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateWebhookSecret, signPayload } from '../../src/events/webhook-signature.js';
import { loadNodeVerifier, pythonVerifies, type NodeVerifier } from '../helpers/webhook-verifiers.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';

const skipPython = await skipUnless(TOOLS.python3);

describe('docs/webhooks.md verification snippets', () => {
  const secret = generateWebhookSecret();
  // Non-ASCII and JSON escapes: the MAC is over bytes, exactly as sent.
  const body = Buffer.from(JSON.stringify({ version: 1, webhookId: 'wh_1', events: [{ id: 'ev_1', type: 'bounced', recipient: 'zoë@example.net', data: { response: '550 5.1.1 "no"\r\n' } }] }));
  const now = Date.now();
  const header = signPayload(secret, body, now);
  let nodeVerify: NodeVerifier;

  before(async () => { nodeVerify = await loadNodeVerifier(); });

  it('Python (python3, standard library) verifies what Postlane signed, and rejects tampering, other secrets and replays', { skip: skipPython }, async () => {
    assert.equal(await pythonVerifies(secret, header, body), true);
    assert.equal(await pythonVerifies(secret, header, Buffer.concat([body, Buffer.from(' ')])), false, 'a changed body');
    assert.equal(await pythonVerifies(generateWebhookSecret(), header, body), false, 'another secret');
    assert.equal(await pythonVerifies(secret, header, body, now / 1000 + 400), false, 'replayed 400 s later');
    assert.equal(await pythonVerifies(secret, signPayload([generateWebhookSecret(), secret], body, now), body), true, 'rotation: two v1 values');
  });

  it('Node verifies what Postlane signed, and rejects tampering, other secrets and replays', () => {
    assert.equal(nodeVerify(secret, header, body), true);
    assert.equal(nodeVerify(secret, header, Buffer.from(body.toString().replace('bounced', 'delivered'))), false);
    assert.equal(nodeVerify(generateWebhookSecret(), header, body), false);
    assert.equal(nodeVerify(secret, header, body, 300, now + 400_000), false);
    assert.equal(nodeVerify(secret, signPayload([generateWebhookSecret(), secret], body, now), body), true);
    assert.equal(nodeVerify(secret, 'garbage', body), false);
  });
});
