// The value types of an inbound report — what report-parser.ts makes of a message that reached the
// MX listener: a delivery status notification (RFC 3464), a feedback report (ARF, RFC 5965), a
// non-standard text bounce, or something else. Types only; no behaviour.

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

/** One per-recipient block of a message/delivery-status part; any field may be missing. */
export interface DsnRecipient {
  /** Final-Recipient without its address type ("rfc822;"). */
  finalRecipient: string | null;
  /** Original-Recipient (the ORCPT the sender gave), without its address type. */
  originalRecipient: string | null;
  action: DsnAction | null;
  /** The RFC 3463 status, normalized ("5.1.1"). */
  status: string | null;
  /** Diagnostic-Code without its type ("smtp;"), unfolded: usually the remote reply. */
  diagnosticCode: string | null;
  /** Remote-MTA's host name (or address literal), without type or comment. */
  remoteMta: string | null;
}

export interface DsnReport {
  kind: 'dsn';
  /** Reporting-MTA's host name. */
  reportingMta: string | null;
  recipients: DsnRecipient[];
  /** Message-ID of the returned message (with its angle brackets), when it was returned or named. */
  originalMessageId: string | null;
  /** Original-Envelope-Id (the ENVID the sender gave at MAIL FROM). */
  originalEnvelopeId: string | null;
  /** Return-Path of the returned message, when its headers carry one (added after the brief: the VERP address). */
  originalReturnPath: string | null;
}

/** What the returned or reported message's own header fields say. */
export interface OriginalHeaders {
  /** Return-Path address without angle brackets; null when absent or the null sender. */
  returnPath: string | null;
  /** Addresses of its To field (none when redacted). */
  to: string[];
  /** Its Message-ID, with angle brackets. */
  messageId: string | null;
  /** Its List-Unsubscribe field, unfolded. */
  listUnsubscribe: string | null;
}

export interface ArfReport {
  kind: 'arf';
  /** Feedback-Type, lower case ("abuse", "fraud", "not-spam"…); "other" when the report has none. */
  feedbackType: string;
  userAgent: string | null;
  /** Original-Mail-From address (the envelope sender: the VERP return-path). */
  originalMailFrom: string | null;
  /** Original-Rcpt-To addresses; often empty: Yahoo and Microsoft redact them. */
  originalRcptTo: string[];
  sourceIp: string | null;
  /** Arrival-Date (or the older Received-Date), as written. */
  arrivalDate: string | null;
  reportedDomain: string | null;
  originalMessageId: string | null;
  originalHeaders: OriginalHeaders;
}

export interface TextBounceRecipient {
  address: string;
  /** The remote reply or failure text quoted for this address. */
  diagnostic: string | null;
  /** The RFC 3463 status found in the diagnostic. */
  status: string | null;
}

/** A bounce without a machine-readable part: Exim's classic form, qmail, Yahoo, old Sendmail. */
export interface TextBounceReport {
  kind: 'bounce-text';
  recipients: TextBounceRecipient[];
  originalMessageId: string | null;
  /** Return-Path of the quoted original message (added after the brief, like DsnReport's). */
  originalReturnPath: string | null;
}

export interface OtherReport { kind: 'other' }

export type InboundReport = DsnReport | ArfReport | TextBounceReport | OtherReport;
