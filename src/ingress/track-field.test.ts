import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takeTrackField } from './track-field.js';

const take = (s: string) => {
  const r = takeTrackField(Buffer.from(s, 'latin1'));
  return { header: r.header.toString('latin1'), track: r.track, invalid: r.invalid };
};

test('X-Postlane-Track: what it names is on, the rest off; removed (folded lines too); a typo voids it', () => {
  const cases: [string, ReturnType<typeof take>][] = [
    ['From: a@x\r\nX-Postlane-Track: opens, clicks\r\nSubject: s\r\n', { header: 'From: a@x\r\nSubject: s\r\n', track: { opens: true, clicks: true }, invalid: null }],
    ['x-postlane-track: Clicks\r\nSubject: s\r\n', { header: 'Subject: s\r\n', track: { opens: false, clicks: true }, invalid: null }],
    ['X-Postlane-Track:\r\n opens\r\nSubject: s\r\n', { header: 'Subject: s\r\n', track: { opens: true, clicks: false }, invalid: null }],
    ['X-Postlane-Track: none\r\n', { header: '', track: { opens: false, clicks: false }, invalid: null }],
    ['X-Postlane-Track: opens\r\nX-Postlane-Track: clicks\r\n', { header: '', track: { opens: true, clicks: true }, invalid: null }],
    ['X-Postlane-Track: opens, clickz\r\nSubject: s\r\n', { header: 'Subject: s\r\n', track: null, invalid: 'clickz' }],
    ['X-Postlane-Track:\r\nSubject: s\r\n', { header: 'Subject: s\r\n', track: null, invalid: '(empty)' }],
    ['Subject: about X-Postlane-Track: opens\r\n', { header: 'Subject: about X-Postlane-Track: opens\r\n', track: null, invalid: null }],
  ];
  for (const [header, expected] of cases) assert.deepEqual(take(header), expected, header);
});
