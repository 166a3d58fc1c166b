// The setup both browser test files share (each starts its own, so the suite's two workers run
// them side by side): a test DNS server, a receiving MX on 127.0.0.2, a real relay process with
// accounts acme (sending domain acme.test, an all-scope key) and other (a key), dashboard users
// alice (of acme) and root (admin), and a headless Chromium page that records CSP violations,
// page errors and dialogs. logIn signs a page in through the login form.
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { RelayProcess } from '../helpers/relay-process.js';
import { cliFixture } from '../helpers/cli-fixture.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { CHROMIUM, launchBrowser } from './browser.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const PASSWORD = 'correct horse battery staple';

/** Why the browser tests cannot run here, or false. */
export const skipBrowser = !fs.existsSync(CHROMIUM) ? `no ${CHROMIUM} (apt-get install chromium)`
  : !fs.existsSync(path.join(ROOT, 'dashboard/dist/index.html')) ? 'dashboard/dist not built (npm run build)' : false;

export interface DashboardRig {
  relay: RelayProcess; mx: Awaited<ReturnType<typeof startReceiver>>; base: string; token: string; otherToken: string;
  browser: Browser; context: BrowserContext; page: Page; cspErrors: string[]; dialogs: string[];
}

export async function startDashboardRig(t: TestContext, extraConfig: Record<string, unknown> = {}): Promise<DashboardRig> {
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'dest.test': { MX: [{ exchange: 'mx.dest.test', priority: 10 }] }, 'mx.dest.test': { A: ['127.0.0.2'] } });
  const relay = await RelayProcess.create({ dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port, pollInterval: '200ms' }, ...extraConfig });
  let browser: Browser | null = null;
  t.after(async () => { await browser?.close(); await relay.cleanup(); await mx.close(); await dns.close(); });
  const { okWithInput, addTenant } = cliFixture(() => relay);
  const token = await addTenant({ account: 'acme', domain: 'acme.test', publishOn: dns, key: { scope: 'send,read,admin' } });
  const otherToken = await addTenant({ account: 'other', key: { scope: 'send,read,admin' } });
  await okWithInput(`${PASSWORD}\n`, 'dashboard-users', 'add', 'alice', '--account', 'acme', '--password-stdin');
  await okWithInput(`${PASSWORD}\n`, 'dashboard-users', 'add', 'root', '--admin', '--password-stdin');
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;

  browser = await launchBrowser();
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const cspErrors: string[] = [];
  const dialogs: string[] = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  page.on('console', (m) => {
    // the sandboxed preview of a message's HTML blocks its scripts, and says so: that is the point
    if (m.location().url.startsWith('about:srcdoc')) return;
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
  });
  page.on('pageerror', (e) => cspErrors.push(`page error: ${e.message}`));
  return { relay, mx, base, token, otherToken, browser, context, page, cspErrors, dialogs };
}

/** Signs `page` in as `username` through the login form and waits for the navigation. */
export async function logIn(page: Page, username: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}
