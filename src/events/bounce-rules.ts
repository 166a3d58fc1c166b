// The data table that says what a failed recipient's reply means for the address: hard (the
// address is bad), soft (it may recover) or block (the SENDER is the problem: spam, reputation,
// blocklists, authentication, policy — a block must never suppress the recipient), with a finer
// category. bounce-classifier.ts applies it; bounce-classifier.test.ts checks it as a table.
//
// First match wins. Text patterns (what the big providers and MTAs actually say) come first,
// ordered so that the sender's problems are recognised before the recipient's (a Spamhaus
// listing quotes "Service unavailable", a sender-verify failure quotes "Unrouteable address");
// then fallbacks by RFC 3463 enhanced code, then by basic reply code. Patterns see the reply
// text with its codes removed and its lines joined by a space, case-insensitively, and must stay
// linear (no nested quantifiers): the text comes from strangers.

export type BounceType = 'hard' | 'soft' | 'block';

export type BounceCategory =
  | 'unknown-user' | 'bad-domain' | 'null-mx' | 'mailbox-full' | 'mailbox-disabled' | 'message-too-large'
  | 'content-rejected' | 'spam' | 'reputation' | 'blocklist' | 'auth-failure' | 'rate-limited' | 'policy'
  | 'temporary' | 'other';

export interface BounceRule {
  /** Stable name, for logs. */
  id: string;
  /** Matched against the reply text (codes removed, lines joined). */
  text?: RegExp;
  /** Matched against the normalized enhanced status ("5.1.10"); a rule with it needs one. */
  enhanced?: RegExp;
  /** Basic reply code, or inclusive [min, max]; a rule with it needs one. */
  code?: number | readonly [number, number];
  bounceType: BounceType;
  category: BounceCategory;
}

const hard = (category: BounceCategory) => ({ bounceType: 'hard', category }) as const;
const soft = (category: BounceCategory) => ({ bounceType: 'soft', category }) as const;
const block = (category: BounceCategory) => ({ bounceType: 'block', category }) as const;

/** The sender's problems, recognised by their words before anything else. */
const SENDER_TEXT: readonly BounceRule[] = [
  { id: 'blocklist', ...block('blocklist'),
    text: /spamhaus|barracuda|spamcop|\bsorbs\b|uceprotect|\bpsbl\b|abuseat|\bdnsbl\b|\brbl\b|blocked using|(?<!not )listed (?:at|in|on|by)\b|\bblock ?list|\bblack ?list|\bS3150\b|\bS3140\b|\bS3115\b/i },
  // Before rate limits: a recipient receiving mail too fast is the recipient's (passing) problem.
  { id: 'recipient-receiving-rate', ...soft('rate-limited'),
    text: /(?:user|recipient|mailbox) (?:you are trying to contact )?is receiving (?:mail|messages) (?:too quickly|at a rate)/i },
  { id: 'rate-limited', ...block('rate-limited'),
    text: /rate[- ]limit|unusual rate|too many (?:messages|mails|emails|connections)|unexpected volume|\bTSS04\b|\bTS0[12]\b|throttl|sending (?:too much|too fast)|exceeded the (?:sending )?rate/i },
  { id: 'sender-address', ...block('policy'),
    text: /sender verif\w* failed|sender address rejected|(?:sender|from) (?:domain|address) (?:must exist|must resolve|does ?n.t exist|not found|is invalid|unknown)|invalid sender|unknown sender|domain of sender address/i },
  { id: 'sender-account', ...block('policy'), text: /\byour (?:account|ip(?: address)?|domain|server|host|network)\b/i },
  { id: 'exchange-restricted', ...block('policy'), text: /RESOLVER\.RST\./i },
  { id: 'auth-failure', ...block('auth-failure'),
    text: /\bDMARC\b|\bSPF\b|\bDKIM\b|unauthenticated|not authenticated|(?:fails?|failed) to pass authentication|authentication (?:checks?|information|failure|failed)|reverse DNS|\bPTR record|\brDNS\b/i },
  { id: 'auth-enhanced', ...block('auth-failure'), enhanced: /^[45]\.7\.2[0-7]$/ },
  { id: 'reputation', ...block('reputation'),
    text: /reputation|sender score|banned sending IP|traffic not accepted from this IP|\bTSS?0\d\b|permanently deferred|poor sending|suspicious (?:activity|sender)/i },
  { id: 'spam', ...block('spam'), text: /\bspam\b|spammy|unsolicited|junk mail|bulk mail|\bUBE\b|\bUCE\b/i },
  { id: 'content', ...block('content-rejected'),
    text: /virus|malware|phish|infected|content (?:rejected|filter|presents|policy|not accepted)|its content|attachment (?:type )?(?:is )?not allowed|(?:blocked|banned|forbidden) attachment/i },
];

/** The recipient's mailbox or domain, by the words of the usual replies. */
const RECIPIENT_TEXT: readonly BounceRule[] = [
  // Office 365 Directory-Based Edge Blocking: the tenant has no such recipient.
  { id: 'recipient-access-denied', ...hard('unknown-user'), text: /recipient address rejected: access denied/i },
  { id: 'exchange-not-found', ...hard('unknown-user'), text: /RecipientNotFound|RecipNotFound|Recipient not found by/i },
  { id: 'mailbox-full', ...soft('mailbox-full'),
    text: /mailbox (?:is )?full|\bover ?quota|quota (?:exceeded|full)|exceeded (?:the |his |her |their )?(?:storage|quota|mailbox)|mailbox (?:size )?limit|storage (?:allocation|limit|space)|out of storage|is out of space|disk quota|insufficient (?:user )?quota/i },
  { id: 'mailbox-disabled', ...hard('mailbox-disabled'),
    text: /(?:mailbox|account|address|user) (?:is |has been |was )?(?:disabled|inactive|suspended|deactivated|closed|expired|locked|frozen|terminated|discontinued)|account that you tried to reach is (?:disabled|inactive)|no longer (?:active|available|in use|valid|exists)/i },
  { id: 'null-mx', ...hard('null-mx'), text: /null ?MX|does not accept (?:e-?)?mail/i },
  { id: 'unknown-user', ...hard('unknown-user'),
    text: /user unknown|unknown (?:user|recipient|mailbox|address|local part)|no such (?:user|mailbox|recipient|address|account|person)|(?:user|mailbox|recipient|address|account|addressee)(?: name)? does ?n.t exist|you tried to reach does ?n.t exist|doesn.t have an? [\w.-]{1,64} account|mailbox (?:not found|unavailable|does not exist)|(?:recipient|user|address|mailbox) not found|invalid (?:recipient|mailbox|address|user)|not a valid (?:mailbox|recipient|user)|no mailbox here|undeliverable address|user not local|not our customer|mailbox name not allowed|is not a known user|not listed in (?:the )?(?:domino|directory|public address book)/i },
  { id: 'bad-domain', ...hard('bad-domain'),
    text: /domain (?:not found|does ?n.t exist|name not found|is not (?:valid|configured)|unknown)|unknown domain|host (?:or domain name )?not found|host unknown|no (?:MX|mail exchanger|mail server)s? (?:or A )?(?:record|found|for)|NXDOMAIN|unrout(?:e)?able (?:address|domain)|no route to (?:domain|host)|name service error|bad destination (?:system|domain)/i },
  { id: 'message-too-large', ...soft('message-too-large'),
    text: /message (?:size )?(?:is )?too (?:big|large)|(?:size|length) (?:of message )?exceeds|exceeds (?:the )?(?:fixed |allowed |maximum |max )+(?:message )?size|message (?:size )?exceeds|too (?:big|large) for (?:the )?(?:system|this)/i },
];

/** Replies that are policy, greylisting or a passing trouble, by their words. */
const OTHER_TEXT: readonly BounceRule[] = [
  { id: 'policy', ...block('policy'),
    text: /polic(?:y|ies)|prohibited|relay(?:ing)? (?:access )?(?:denied|not permitted|not allowed)|not permitted to relay|administrative prohibition|\bCS0\d\b|\bHM0\d\b|must issue a STARTTLS|TLS required|encryption required|access denied|not allowed to send/i },
  { id: 'greylisted', ...soft('temporary'), text: /gr[ae]y-?list/i },
  { id: 'temporary', ...soft('temporary'),
    text: /try (?:again )?later|temporar(?:y|ily)|too busy|resources? (?:temporarily )?unavailable|insufficient system (?:storage|resources)|local error|timed? ?out|connection (?:refused|reset|lost|dropped)/i },
];

/** RFC 3463 fallbacks: the enhanced code's subject and detail, when no words matched. */
const BY_ENHANCED: readonly BounceRule[] = [
  { id: 'enhanced-null-mx', ...hard('null-mx'), enhanced: /^5\.1\.10$/ },
  { id: 'enhanced-sender-address', ...block('policy'), enhanced: /^5\.1\.[78]$/ },
  { id: 'enhanced-bad-domain', ...hard('bad-domain'), enhanced: /^5\.1\.2$/ },
  { id: 'enhanced-address', ...hard('unknown-user'), enhanced: /^5\.1\.\d+$/ },
  { id: 'enhanced-mailbox-disabled', ...hard('mailbox-disabled'), enhanced: /^5\.2\.1$/ },
  { id: 'enhanced-mailbox-full', ...soft('mailbox-full'), enhanced: /^[45]\.2\.2$/ },
  { id: 'enhanced-too-large', ...soft('message-too-large'), enhanced: /^[45]\.(?:2\.3|3\.4)$/ },
  { id: 'enhanced-security', ...block('policy'), enhanced: /^5\.7\.\d+$/ },
  // Media errors: the message's form, which the sender chose.
  { id: 'enhanced-media', ...block('content-rejected'), enhanced: /^5\.6\.\d+$/ },
  { id: 'enhanced-temporary', ...soft('temporary'), enhanced: /^4\.\d+\.\d+$/ },
  // Mail system, routing or protocol (5.3, 5.4, 5.5, 5.0): says nothing against the address.
  { id: 'enhanced-other', ...soft('other'), enhanced: /^5\.\d+\.\d+$/ },
];

/** RFC 5321 fallbacks, reached only by replies without an enhanced code. */
const BY_CODE: readonly BounceRule[] = [
  // 550 "mailbox unavailable", 551 "user not local", 553 "mailbox name not allowed".
  { id: 'basic-no-mailbox', ...hard('unknown-user'), code: 550 },
  { id: 'basic-not-local', ...hard('unknown-user'), code: 551 },
  { id: 'basic-name-not-allowed', ...hard('unknown-user'), code: 553 },
  { id: 'basic-storage', ...soft('mailbox-full'), code: 552 },
  { id: 'basic-temporary', ...soft('temporary'), code: [400, 499] },
  { id: 'basic-permanent', ...soft('other'), code: [500, 599] },
];

export const BOUNCE_RULES: readonly BounceRule[] = [
  ...SENDER_TEXT,
  ...RECIPIENT_TEXT,
  ...OTHER_TEXT,
  ...BY_ENHANCED,
  ...BY_CODE,
  // No code, no words we know: a local failure text, or nothing at all.
  { id: 'unknown', ...soft('other') },
];
