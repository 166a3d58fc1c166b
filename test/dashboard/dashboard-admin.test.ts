// The dashboard's Domains, SMTP users and Accounts pages in headless Chromium against a real relay
// (its own, started by dashboard-rig.ts, so it runs beside dashboard.test.ts): the records of a
// domain and their DNS check; add a domain; add an SMTP user that authenticates over real SMTP
// (Python smtplib, STARTTLS), change its domains, stream and limits, remove a domain (confirmed
// first: the user's grant of it goes too), remove the user (then refused); an admin edits an
// account's plan while acting for another account; axe-core with the edit forms open.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { call } from '../helpers/api-fixture.js';
import { saveScreenshot, seriousAxeViolations } from './browser.js';
import { logIn, skipBrowser, startDashboardRig } from './dashboard-rig.js';

test('dashboard domains, SMTP users and plans in a real browser', { skip: skipBrowser, timeout: 180_000 }, async (t) => {
  const { relay, base, token, otherToken, browser, page, cspErrors } = await startDashboardRig(t);
  await page.goto('/');
  await logIn(page, 'alice');

  await t.test('domains: the records to publish, then checked against DNS now', async () => {
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByRole('button', { name: 'Show DNS records' }).click();
    const dkim = page.locator('tbody tr', { hasText: 's1._domainkey.acme.test' });
    await dkim.waitFor();
    await page.getByRole('button', { name: 'Check DNS now' }).click();
    await dkim.locator('.badge-ok').waitFor();
  });

  await t.test('add a domain from the page: its records to publish are shown', async () => {
    const form = page.getByRole('form', { name: 'Add a sending domain' });
    await form.getByLabel('Domain name').fill('news.acme.test');
    await form.getByRole('button', { name: 'Add domain' }).click();
    await page.getByRole('status').locator('tbody tr', { hasText: '._domainkey.news.acme.test' }).waitFor();
    await page.getByRole('heading', { name: 'news.acme.test', level: 2 }).waitFor();
    assert.equal((await call(base, 'GET', '/v1/domains/news.acme.test', { token })).status, 200);
    assert.equal((await call(base, 'GET', '/v1/domains/news.acme.test', { token: otherToken })).status, 404);
  });

  await t.test('add an SMTP user: it authenticates over real SMTP (smtplib); change it; remove a domain it may use; removed: refused', async () => {
    await page.getByRole('link', { name: 'SMTP users' }).click();
    const form = page.getByRole('form', { name: 'Add an SMTP user' });
    await form.getByLabel('User name').fill('mailer');
    await form.getByLabel('Password').fill('s3cret password');
    await form.getByLabel('May send as (domains, comma-separated)').fill('acme.test');
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.locator('tbody tr[data-user="mailer"]').waitFor();
    const login = (password: string) => new Promise<string>((resolve) => execFile('python3', ['-c', `
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="py.test")
s.starttls(context=ctx)
try:
    s.login("mailer", sys.argv[2]); print("authenticated")
except smtplib.SMTPAuthenticationError as e:
    print("refused", e.smtp_code)
s.quit()
`, String(relay.port('submission')), password], { timeout: 30_000 }, (err, out, e) => resolve(err ? `error ${e}` : out.trim())));
    assert.equal(await login('s3cret password'), 'authenticated');

    await page.locator('tbody tr[data-user="mailer"]').getByRole('button', { name: 'Change mailer' }).click();
    const edit = page.getByRole('form', { name: 'Change mailer' });
    await edit.getByLabel('May send as (domains, comma-separated)').fill('acme.test, news.acme.test');
    await edit.getByLabel('Stream of mail that names none').selectOption('broadcast');
    await edit.getByLabel('Per hour').fill('120');
    assert.deepEqual(await seriousAxeViolations(page), [], 'SMTP users page with the change form open');
    await saveScreenshot(page, 'smtp-users-change');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'SMTP user mailer changed.' }).waitFor();
    const row = page.locator('tbody tr[data-user="mailer"]');
    await row.filter({ hasText: '120/hour' }).waitFor();
    assert.match(await row.innerText(), /acme\.test, news\.acme\.test[\s\S]*broadcast/);
    const changed = (await call(base, 'GET', '/v1/smtp-users', { token })).body.data.find((u: { name: string }) => u.name === 'mailer');
    assert.deepEqual([changed.allowed_domains, changed.default_stream, changed.limits], [['acme.test', 'news.acme.test'], 'broadcast', { perHour: 120 }]);
    assert.equal(await login('s3cret password'), 'authenticated', 'the password is untouched');

    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByRole('button', { name: 'Remove news.acme.test' }).click();
    await page.getByRole('button', { name: /^Really remove news\.acme\.test\?/ }).click();
    await page.getByRole('status').filter({ hasText: 'Domain news.acme.test removed.' }).waitFor();
    await page.getByRole('heading', { name: 'news.acme.test', level: 2 }).waitFor({ state: 'detached' });
    assert.equal((await call(base, 'GET', '/v1/domains/news.acme.test', { token })).status, 404);
    assert.deepEqual((await call(base, 'GET', '/v1/smtp-users', { token })).body.data[0].allowed_domains, ['acme.test'], 'the grant went with the domain');
    await page.getByRole('link', { name: 'SMTP users' }).click();
    const remove = page.locator('tbody tr[data-user="mailer"]').getByRole('button', { name: 'Remove mailer' });
    await remove.click();
    await page.getByRole('button', { name: 'Really remove mailer?' }).click();
    await page.locator('tbody tr[data-user="mailer"]').waitFor({ state: 'detached' });
    assert.equal(await login('s3cret password'), 'refused 535');
  });

  await t.test('an admin edits an account\'s plan (sent as the operator, whichever account it acts for)', async () => {
    const admin = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
    t.after(() => admin.close());
    const p = await admin.newPage();
    await p.goto('/accounts');
    await logIn(p, 'root');
    await p.getByLabel('Account').selectOption('acme');
    await p.getByRole('heading', { name: 'Accounts', level: 1 }).waitFor();
    await p.locator('tbody tr[data-account="acme"]').getByRole('button', { name: 'Edit plan of acme' }).click();
    const form = p.getByRole('form', { name: 'Plan of acme' });
    await form.getByLabel('Per day').fill('5000');
    await form.getByLabel('Per month').fill('100000');
    assert.deepEqual(await seriousAxeViolations(p), [], 'accounts page with the plan form open');
    await saveScreenshot(p, 'accounts-plan');
    await form.getByRole('button', { name: 'Save plan' }).click();
    await p.getByRole('status').filter({ hasText: 'Plan of acme: 5000/day, 100000/month.' }).waitFor();
    await p.locator('tbody tr[data-account="acme"]').filter({ hasText: 'per day: 0 / 5000' }).waitFor();
    assert.deepEqual((await call(base, 'GET', '/v1/account', { token })).body.limits, { perDay: 5000, perMonth: 100000 });
    assert.deepEqual((await call(base, 'GET', '/v1/account', { token: otherToken })).body.limits, {}, 'another account untouched');

    // An account's own user is shown no plan editing, and the API refuses it anyway.
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.locator('tbody tr[data-account="acme"]').waitFor();
    assert.equal(await page.getByRole('button', { name: /^Edit plan/ }).count(), 0);
    const refused = await page.evaluate(async () => {
      const s = await (await fetch('/v1/dashboard/session')).json() as { csrfToken: string };
      return (await fetch('/v1/accounts/acme', { method: 'PATCH', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken }, body: JSON.stringify({ limits: { perDay: 1 } }) })).status;
    });
    assert.equal(refused, 403);
  });

  assert.deepEqual(cspErrors, [], 'no CSP violation or page error in the whole run');
});
