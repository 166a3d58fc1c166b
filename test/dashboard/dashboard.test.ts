// The dashboard end to end in headless Chromium: a real relay process (serving dashboard/dist and
// the /v1 API), a test DNS server and a receiving MX on loopback. Drives what a user does: a
// wrong password is refused; log in; a message sent through the API appears in Messages and its
// timeline reaches "delivered"; the overview counts it on its chart; suppress an address; create a
// key (token shown once, then usable) and revoke it (then refused); a cookie-authenticated POST
// without the CSRF header is refused; every page passes axe-core (no serious or critical
// violations) with the served CSP intact; a screenshot of each page, light and dark, and at phone
// width, goes to test-artifacts/dashboard/. Domains, SMTP users and plans: dashboard-admin.test.ts
// (its own relay, so the two files run side by side).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { eventually } from '../helpers/relay-process.js';
import { call } from '../helpers/api-fixture.js';
import { saveScreenshot, seriousAxeViolations } from './browser.js';
import { PASSWORD, skipBrowser, startDashboardRig } from './dashboard-rig.js';

const skip = skipBrowser;

const PAGES = [
  { path: '/', name: 'overview', heading: 'Overview' },
  { path: '/messages', name: 'messages', heading: 'Messages' },
  { path: '/queue', name: 'queue', heading: 'Queue' },
  { path: '/suppressions', name: 'suppressions', heading: 'Suppressions' },
  { path: '/domains', name: 'domains', heading: 'Domains' },
  { path: '/smtp-users', name: 'smtp-users', heading: 'SMTP users' },
  { path: '/keys', name: 'keys', heading: 'API keys' },
  { path: '/webhooks', name: 'webhooks', heading: 'Webhooks' },
  { path: '/accounts', name: 'accounts', heading: 'Accounts' },
];

test('dashboard in a real browser against a real relay', { skip, timeout: 180_000 }, async (t) => {
  const hookEvents: string[] = [];
  const hook = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const e of (JSON.parse(Buffer.concat(chunks).toString()) as { events: { id: string }[] }).events) hookEvents.push(e.id);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  t.after(() => hook.close());
  const { mx, base, token, otherToken, browser, context, page, cspErrors, dialogs } = await startDashboardRig(t, { webhooks: { pollInterval: '100ms', allowPrivateDestinations: true } });
  const created = await call(base, 'POST', '/v1/webhooks', { token, body: { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` } });
  assert.equal(created.status, 201, created.text);

  await t.test('a wrong password is refused with a message, and no session', async () => {
    await page.goto('/');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
    assert.equal((await context.cookies()).filter((c) => c.name === 'postlane_session').length, 0);
    assert.equal((await seriousAxeViolations(page)).length, 0, 'login page: axe');
    await saveScreenshot(page, 'login');
  });

  await t.test('log in: HttpOnly SameSite=Strict session cookie, navigation shown', async () => {
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'postlane_session');
    assert.ok(cookie, 'session cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie.includes('postlane_session')), false, 'not readable by scripts');
  });

  let messageId = '';
  await t.test('a message sent through the API reaches "delivered" in its timeline', async () => {
    const sent = await call(base, 'POST', '/v1/messages', { token, body: { from: 'app@acme.test', to: ['bob@dest.test'], subject: 'Hello from the dashboard test', text: 'Plain text body <b>not html</b>' } });
    assert.equal(sent.status, 202, sent.text);
    messageId = sent.body.id;
    await eventually(() => mx.messages.find((m) => m.rcptTo.includes('bob@dest.test')), 30_000);
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
    await page.getByLabel('Recipient').fill('bob@dest.test');
    await page.getByLabel('Subject').fill('from the DASHBOARD');
    await page.getByRole('button', { name: 'Search' }).click();
    assert.match(page.url(), /recipient=bob%40dest\.test/);
    assert.match(page.url(), /subject=from\+the\+DASHBOARD/);
    await page.locator('tbody tr', { hasText: 'Hello from the dashboard test' }).waitFor();
    await page.locator('tbody tr', { hasText: 'bob@dest.test' }).getByRole('link').click();
    await page.getByRole('heading', { name: `Message ${messageId}` }).waitFor();
    const timeline = page.getByRole('list', { name: 'Timeline of bob@dest.test' });
    await timeline.locator('li[data-status="delivered"]').waitFor({ timeout: 30_000 });
    const text = await timeline.innerText();
    assert.match(text, /MX mx\.dest\.test \(127\.0\.0\.2\)/, 'the MX host and the IP it was delivered to');
    assert.match(text, /· \d+ ms/, 'the attempt\'s duration');
    await page.locator('dl.details dd', { hasText: /^http from 127\.0\.0\.1, API key [0-9a-f]{16}$/ }).waitFor();
    await page.locator('dl.details dd', { hasText: 'Hello from the dashboard test' }).waitFor();
  });

  await t.test('a waiting message: headers and a text preview; none of its HTML reaches the page', async () => {
    const later = await call(base, 'POST', '/v1/messages', {
      token, body: {
        from: 'app@acme.test', to: ['later@dest.test'], subject: 'Preview me', send_at: new Date(Date.now() + 3_600_000).toISOString(),
        text: 'Line one of the <b>text</b> part', html: '<p>Hi</p><script>alert("script ran")</script><img src="data:," onerror="alert(\'handler ran\')">',
      },
    });
    assert.equal(later.status, 202, later.text);
    await page.goto(`/messages/${encodeURIComponent(later.body.id)}`);
    const preview = page.getByTestId('text-preview');
    await preview.waitFor();
    assert.match(await preview.innerText(), /Line one of the <b>text<\/b> part/, 'shown as text, not markup');
    await page.getByText(/^Headers \(\d+\)$/).click();
    await page.locator('table.headers tr', { hasText: 'Preview me' }).waitFor();
    assert.equal(await page.locator('main iframe').count(), 0, 'no frame of the message');
    assert.equal(await page.locator('main script, main img[src="data:,"]').count(), 0, 'none of its markup in the page');
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, [], 'no script of the message ran');
    assert.equal((await call(base, 'GET', `/v1/messages/${later.body.id}/content`, { token: otherToken })).status, 404, 'another account: not found');
    const gone = await call(base, 'GET', `/v1/messages/${messageId}/content`, { token });
    assert.equal(gone.status, 410, gone.text);
    assert.equal(gone.body.error.code, 'content_gone');
  });

  await t.test('the overview counts the delivered message, on its chart too', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    const delivered = page.getByTestId('total-delivered');
    await eventually(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await delivered.waitFor();
      return Number(await delivered.innerText()) >= 1;
    }, 30_000, 500);
    await page.locator('.chart-canvas canvas').first().waitFor();
    const charted = await page.getByRole('table', { name: 'Messages per hour' }).innerText();
    assert.match(charted, /\t1\t/, 'the hidden data table behind the chart holds the count');
    // only the scheduled message waits (GET /v1/queue may answer from its 5 s cache at first)
    await eventually(async () => {
      if ((await page.getByTestId('queue-depth').innerText()) === '1') return true;
      await page.getByRole('button', { name: 'Refresh' }).click();
      return false;
    }, 20_000, 1000);
    await page.getByLabel('By').selectOption('domain');
    await page.getByRole('table', { name: 'Counts and rates by recipient domain' }).getByRole('row', { name: /dest\.test/ }).waitFor();
    const alerts = page.locator('section h2:text-is("Alerts") + *');
    await alerts.waitFor();
    assert.match(await alerts.innerText(), /No alerts|DNS of acme\.test/);
  });

  await t.test('suppress an address from the page; the API sees it', async () => {
    await page.getByRole('link', { name: 'Suppressions' }).click();
    const form = page.getByRole('form', { name: 'Suppress an address' });
    await form.getByLabel('Address').fill('carol@dest.test');
    await form.getByRole('button', { name: 'Suppress' }).click();
    await page.getByRole('status').filter({ hasText: 'Address suppressed.' }).waitFor();
    await page.locator('tbody tr', { hasText: 'carol@dest.test' }).waitFor();
    const seen = await call(base, 'GET', '/v1/suppressions/carol%40dest.test', { token });
    assert.equal(seen.status, 200, seen.text);
    assert.equal(seen.body.data[0].reason, 'manual');

    await page.getByLabel('Import CSV').setInputFiles({ name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from('email,scope\r\ndave@dest.test,all\r\n"erin@dest.test",broadcast\r\nnot-an-address,all\r\n') });
    await page.getByRole('status').filter({ hasText: /2 new/ }).waitFor();
    assert.match(await page.getByRole('status').filter({ hasText: /2 new/ }).innerText(), /line 4/);
    assert.equal((await call(base, 'GET', '/v1/suppressions/erin%40dest.test', { token })).body.data[0].scope, 'broadcast');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const exported = fs.readFileSync((await download.path())!, 'utf8');
    assert.match(exported, /carol@dest\.test/);
    assert.match(exported, /erin@dest\.test,broadcast/);
  });

  await t.test('create a key: its token is shown once and works; revoke it: refused', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    const form = page.getByRole('form', { name: 'Create an API key' });
    await form.getByLabel('Name').fill('from the dashboard');
    await form.getByRole('button', { name: 'Create key' }).click();
    const newToken = await page.getByTestId('new-token').inputValue();
    assert.match(newToken, /^pl_/);
    assert.equal((await call(base, 'GET', '/v1/messages', { token: newToken })).status, 200);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    assert.equal(await page.getByText(newToken).count(), 0, 'the token is not shown again');
    const row = page.locator('tbody tr', { hasText: 'from the dashboard' });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: /^Revoke .*\?$/ }).click();
    await row.getByText(/^revoked/).waitFor();
    assert.equal((await call(base, 'GET', '/v1/messages', { token: newToken })).status, 401);
  });

  await t.test('webhooks: the delivery history, and one delivery replayed', async () => {
    await eventually(() => hookEvents.length > 0, 30_000);
    const firstId = hookEvents[0]!;
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'Show deliveries' }).click();
    const rows = page.getByRole('table', { name: 'Recent deliveries, newest first' }).locator('tbody tr');
    await rows.first().waitFor();
    assert.match(await rows.last().innerText(), /OK 200/);
    await rows.last().getByRole('button', { name: /^Replay the/ }).click();
    await page.getByRole('status').filter({ hasText: /Replay: [1-9]\d* event\(s\) queued/ }).waitFor();
    await eventually(() => hookEvents.filter((id) => id === firstId).length >= 2, 30_000);
  });

  await t.test('a cookie-authenticated POST without X-CSRF-Token is refused (403 csrf_required)', async () => {
    const answer = await page.evaluate(async () => {
      const r = await fetch('/v1/suppressions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ suppressions: [{ email: 'mallory@dest.test' }] }) });
      return { status: r.status, body: await r.json() as { error?: { code?: string } } };
    });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error?.code, 'csrf_required');
    assert.equal((await call(base, 'GET', '/v1/suppressions/mallory%40dest.test', { token })).status, 404, 'nothing was added');
  });

  await t.test('every page: axe-core finds no serious violation, light and dark; screenshots', async () => {
    // Every page in the light theme; the dark theme (same markup, other colours) on the busiest ones.
    for (const theme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: theme });
      await page.evaluate(() => localStorage.removeItem('postlane.theme'));
      for (const p of theme === 'light' ? PAGES : PAGES.filter((x) => ['overview', 'messages', 'keys'].includes(x.name))) {
        await page.goto(p.path);
        await page.getByRole('heading', { name: p.heading, level: 1 }).waitFor();
        await page.locator('[aria-live="polite"]', { hasText: 'Loading…' }).waitFor({ state: 'detached' });
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
        const violations = await seriousAxeViolations(page);
        assert.deepEqual(violations, [], `${p.path} (${theme})`);
        await saveScreenshot(page, `${p.name}-${theme}`);
      }
    }
    await page.goto(`/messages/${encodeURIComponent(messageId)}`);
    await page.getByRole('heading', { name: `Message ${messageId}` }).waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'message page');
    await saveScreenshot(page, 'message-dark');
  });

  await t.test('phone width: the menu opens from a button and reaches every page by keyboard', async () => {
    const phone = await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 }, storageState: await context.storageState() });
    const p = await phone.newPage();
    await p.goto('/');
    await p.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const nav = p.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.isVisible(), false, 'the sidebar is folded away');
    await p.getByRole('button', { name: 'Menu' }).focus();
    await p.keyboard.press('Enter');
    await nav.getByRole('link', { name: 'Suppressions' }).focus();
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: 'Suppressions', level: 1 }).waitFor();
    await saveScreenshot(p, 'suppressions-phone');
    assert.deepEqual(await overflowingElements(p), [], 'no sideways scrolling at 390 px');
    await phone.close();
  });

  await t.test('an admin picks the account to act for and sees its messages', async () => {
    const admin = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
    const p = await admin.newPage();
    await p.goto('/messages');
    await p.getByLabel('Username').fill('root');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    const picker = p.getByLabel('Account');
    await picker.waitFor();
    assert.equal(await picker.inputValue(), 'default');
    await p.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
    assert.equal(await p.locator('tbody tr', { hasText: 'bob@dest.test' }).count(), 0, 'the default account has no such message');
    await picker.selectOption('acme');
    await p.locator('tbody tr', { hasText: 'bob@dest.test' }).waitFor();
    await admin.close();
  });

  await t.test('the theme toggle switches and is remembered', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto('/');
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await page.reload();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
  });

  await t.test('log out: the session is gone, the API refuses the old cookie', async () => {
    const cookies = await context.cookies();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const old = cookies.find((c) => c.name === 'postlane_session')!;
    const r = await call(base, 'GET', '/v1/dashboard/session', { headers: { cookie: `postlane_session=${old.value}` } });
    assert.equal(r.status, 401);
  });

  assert.deepEqual(cspErrors, [], 'no CSP violation or page error in the whole run');
});

/** The elements reaching past the right edge of the viewport (empty: no sideways scrolling). */
async function overflowingElements(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width + 1) return [];
    const culprits = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)} px)`);
    return [`page ${document.documentElement.scrollWidth} px wide`, ...culprits.slice(0, 10)];
  });
}

