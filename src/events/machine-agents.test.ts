import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineAgent, MACHINE_RULES, SCANNER_CLICK_WINDOW_MS, type FetchFacts } from './machine-agents.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const APPLE_MAIL = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const OUTLOOK = 'Mozilla/4.0 (compatible; ms-office; MSOffice 16)';
const CUBOT = 'Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36';

const cases: [kind: FetchFacts['kind'], ua: string | null, msSinceDelivery: number | null, expected: string | null][] = [
  // people
  ['open', CHROME, 3_600_000, null],
  ['open', APPLE_MAIL, 30_000, null],
  ['open', IPHONE, null, null],
  ['open', OUTLOOK, 5_000, null],
  ['open', CUBOT, 60_000, null],
  ['click', CHROME, 60_000, null],
  ['click', IPHONE, SCANNER_CLICK_WINDOW_MS, null],
  ['click', CHROME, null, null],
  // automated
  ['open', null, null, 'no-user-agent'],
  ['click', '  ', 60_000, 'no-user-agent'],
  ['open', 'Mozilla/5.0', 2_000, 'apple-mpp'],
  ['open', 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)', 60_000, 'google-image-proxy'],
  ['open', 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', 60_000, 'yahoo-mail-proxy'],
  ['click', 'Mozilla/5.0 (compatible; Barracuda Sentinel)', 60_000, 'security-scanner'],
  ['click', 'Mimecast URL Protect', 60_000, 'security-scanner'],
  ['open', 'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) BingPreview/1.0b', 60_000, 'security-scanner'],
  ['click', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 60_000, 'link-preview'],
  ['click', 'facebookexternalhit/1.1', 60_000, 'link-preview'],
  ['click', 'python-requests/2.31.0', 60_000, 'http-library'],
  ['open', 'curl/8.5.0', 60_000, 'http-library'],
  ['click', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36', 60_000, 'headless-browser'],
  ['click', CHROME, 4_000, 'too-fast'],
  ['click', CHROME, -1_500, 'too-fast'],
  ['click', CHROME, SCANNER_CLICK_WINDOW_MS - 1, 'too-fast'],
  // open-only rules do not apply to clicks, and the click window not to opens
  ['click', 'Mozilla/5.0', 60_000, null],
  ['open', CHROME, 1_000, null],
];

test('machine fetch heuristics, as a table', () => {
  for (const [kind, userAgent, msSinceDelivery, expected] of cases) {
    assert.equal(machineAgent({ kind, userAgent, msSinceDelivery }), expected, `${kind} ${userAgent} ${msSinceDelivery}`);
  }
});

test('every rule is documented and matched by at least one case', () => {
  const names = new Set(MACHINE_RULES.map((r) => r.name));
  assert.equal(names.size, MACHINE_RULES.length, 'unique names');
  for (const r of MACHINE_RULES) {
    assert.ok(r.why.length > 20, `${r.name} says why`);
    assert.ok(cases.some((c) => c[3] === r.name), `${r.name} has a case`);
  }
});
