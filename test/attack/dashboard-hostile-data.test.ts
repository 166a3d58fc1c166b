// Attacker's pass (the web dashboard, thirty-first session): data an attacker controls, rendered
// by the dashboard in a real browser, must stay text. A message's Subject, From name and recipient
// (a sender, or whoever makes an application send), the bounce text a hostile MX answers (shown in
// the timeline and kept as the suppression's detail), a webhook URL: each carries markup and
// script. Guard (this held): no dialog, no element or attribute made from the data, no script run
// (a CSP refusal would also mean markup got in), the text shown literally. Also checked over HTTP:
// the headers of the pages and of error answers, and that the login answer is no redirect.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { call } from '../helpers/api-fixture.js';
import { logIn, skipBrowser, startDashboardRig } from '../dashboard/dashboard-rig.js';

const skip = skipBrowser;
const MARK = 'data-pwned';
const payload = (n: number) => `<img src=x onerror="document.body.setAttribute('${MARK}','${n}');alert(${n})"><script>alert(${n})</script>"'><svg onload=alert(${n})>`;

test('hostile subjects, names, bounce texts and webhook URLs render as text in the dashboard', { skip, timeout: 180_000 }, async (t) => {
  // The recipient's MX refuses with markup in its reply.
  const hostile = await startReceiver({ host: '127.0.0.2', port: 0, behaviour: { rcpt: () => ({ code: 550, message: `5.1.1 no such user ${payload(4)}` }) } });
  t.after(() => hostile.close());
  const { base, token, page, cspErrors, dialogs } = await startDashboardRig(t, {
    delivery: { port: hostile.port, pollInterval: '200ms' }, webhooks: { allowPrivateDestinations: true },
  });

  const sent = await call(base, 'POST', '/v1/messages', {
    token, body: { from: { email: 'app@acme.test', name: payload(2) }, to: ['bob@dest.test'], subject: payload(1), text: payload(3) },
  });
  assert.equal(sent.status, 202, sent.text);
  const hook = await call(base, 'POST', '/v1/webhooks', { token, body: { url: `http://127.0.0.1:9/${encodeURIComponent(payload(5))}?q="><script>alert(6)</script>` } });
  assert.equal(hook.status, 201, hook.text);
  // Bounced (hard: suppressed, with the MX's text as the detail).
  for (let i = 0; i < 200; i++) {
    const m = await call(base, 'GET', `/v1/messages/${sent.body.id}`, { token });
    if (m.body.recipients?.[0]?.status === 'bounced') break;
    await new Promise((r) => setTimeout(r, 100));
  }

  await page.goto('/');
  await logIn(page, 'alice');
  for (const path of ['/', '/messages', `/messages/${encodeURIComponent(sent.body.id)}`, '/suppressions', '/webhooks', '/queue']) {
    await page.goto(path);
    await page.getByRole('main').waitFor();
    await page.waitForLoadState('networkidle');
    const state = await page.evaluate((mark) => ({
      marked: document.body.hasAttribute(mark),
      injected: document.querySelectorAll('main img[src="x"], main svg[onload], main script, main [onerror]').length,
    }), MARK);
    assert.deepEqual(state, { marked: false, injected: 0 }, path);
  }
  // The message page shows the subject and the MX's answer as text.
  await page.goto(`/messages/${encodeURIComponent(sent.body.id)}`);
  await page.getByText('no such user', { exact: false }).first().waitFor();
  const text = await page.getByRole('main').innerText();
  assert.ok(text.includes('<img src=x onerror='), 'the subject or reply is shown literally');
  assert.deepEqual(dialogs, []);
  assert.deepEqual(cspErrors, []);

  // Headers: the pages (also a client-side route that does not exist) and the API's error answers.
  for (const path of ['/', '/messages', '/no/such/page', '/assets/missing.js']) {
    const r = await fetch(base + path, { headers: { accept: 'text/html' } });
    if (r.headers.get('content-type')?.startsWith('text/html')) {
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', path);
    }
    assert.notEqual(r.headers.get('content-type')?.split(';')[0], 'text/plain', path);
  }
  // Login answers JSON, never a redirect (no "next" parameter to abuse).
  const login = await fetch(`${base}/v1/dashboard/login?next=https://evil.example/`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: 'correct horse battery staple' }), redirect: 'manual',
  });
  assert.equal(login.status, 200);
  assert.equal(login.headers.get('location'), null);
  assert.match(login.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict; Path=\//);
});
