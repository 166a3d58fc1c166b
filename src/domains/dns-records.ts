// Owns what an operator must publish in DNS for a sending domain, as data: the DKIM TXT record of
// each active or pending key, an SPF hint for this relay, a DMARC policy to start with (p=none
// with a report address), the optional MTA-STS / TLS-RPT records and the return-path (bounce)
// CNAME. `domains records` prints them; domain-check.ts compares them with what DNS answers.
import type { DomainsConfig } from '../config/schema.js';
import type { DkimKey } from '../store/store.js';
import { dkimRecordValue } from './dkim-keys.js';

export type RecordPurpose = 'dkim' | 'spf' | 'dmarc' | 'mta-sts' | 'tls-rpt' | 'bounce';

export interface ExpectedRecord {
  purpose: RecordPurpose;
  name: string;               // owner name, no trailing dot
  type: 'TXT' | 'CNAME';
  value: string;              // TXT: the whole text (split into 255-byte strings when printed)
  /** Mail authenticates without the optional ones (MTA-STS, TLS-RPT). */
  required: boolean;
  note?: string;
  /** DKIM records: the key this record publishes. */
  key?: Pick<DkimKey, 'selector' | 'algorithm' | 'publicKey' | 'state'>;
}

export interface RecordContext { hostname: string; domains: DomainsConfig }

/** The mechanisms a domain's SPF record must contain for this relay. */
export const spfMechanisms = (ctx: RecordContext) => ctx.domains.spf ?? `a:${ctx.hostname}`;

const yyyymmdd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');

export function dkimRecords(domain: string, keys: readonly DkimKey[]): ExpectedRecord[] {
  return keys.filter((k) => k.state !== 'retired').map((k) => ({
    purpose: 'dkim', name: `${k.selector}._domainkey.${domain}`, type: 'TXT', value: dkimRecordValue(k), required: true,
    key: { selector: k.selector, algorithm: k.algorithm, publicKey: k.publicKey, state: k.state },
    ...(k.state === 'pending' ? { note: 'new key (rotation): publish it now; Postlane switches to it once it is seen in DNS' } : {}),
  }));
}

/** Every record for `domain`, DKIM first. `createdAt` seeds the MTA-STS policy id. */
export function expectedRecords(domain: string, keys: readonly DkimKey[], createdAt: number, ctx: RecordContext): ExpectedRecord[] {
  const records: ExpectedRecord[] = [
    ...dkimRecords(domain, keys),
    {
      purpose: 'spf', name: domain, type: 'TXT', value: `v=spf1 ${spfMechanisms(ctx)} ~all`, required: true,
      note: 'one SPF record per name: if one exists, add the mechanisms to it instead',
    },
    {
      purpose: 'dmarc', name: `_dmarc.${domain}`, type: 'TXT', value: `v=DMARC1; p=none; rua=mailto:dmarc-reports@${domain}`, required: true,
      note: 'p=none only monitors: move to p=quarantine, then p=reject, once the reports show all mail passing',
    },
  ];
  const bounce = ctx.domains.bounceDomain;
  if (bounce) {
    records.push({
      purpose: 'bounce', name: `${bounce.label}.${domain}`, type: 'CNAME', value: bounce.target, required: true,
      note: `return-path domain: aligns SPF with ${domain} for DMARC and brings bounces back to this relay`,
    });
  }
  if (ctx.domains.mtaSts) {
    records.push(
      { purpose: 'mta-sts', name: `_mta-sts.${domain}`, type: 'TXT', value: `v=STSv1; id=${yyyymmdd(createdAt)}01`, required: false,
        note: 'change id whenever the policy file changes' },
      { purpose: 'mta-sts', name: `mta-sts.${domain}`, type: 'CNAME', value: ctx.domains.mtaSts.policyHost, required: false,
        note: 'serves https://mta-sts.<domain>/.well-known/mta-sts.txt (its certificate must cover that name)' },
    );
  }
  if (ctx.domains.tlsRpt) {
    records.push({ purpose: 'tls-rpt', name: `_smtp._tls.${domain}`, type: 'TXT', value: `v=TLSRPTv1; rua=mailto:tls-reports@${domain}`, required: false });
  }
  return records;
}

/** A TXT value as DNS character-strings of at most 255 bytes each (RFC 1035 §3.3.14). */
export function txtStrings(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out.length ? out : [''];
}

/** One line in zone-file syntax: `name. 3600 IN TXT "…" "…"` or `name. 3600 IN CNAME target.` */
export function formatZoneLine(r: ExpectedRecord): string {
  const rdata = r.type === 'TXT'
    ? txtStrings(r.value).map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(' ')
    : `${r.value.replace(/\.$/, '')}.`;
  return `${r.name}.\t3600\tIN\t${r.type}\t${rdata}`;
}
