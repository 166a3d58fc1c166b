// Reads a delivery status notification (RFC 3464): the fields of its message/delivery-status part
// — one per-message block (Reporting-MTA, Original-Envelope-Id…) and one block per recipient
// (Final-Recipient, Action, Status, Diagnostic-Code, Remote-MTA…) — and the returned message's
// headers. Pure; report-parser.ts finds the parts.
import type { DsnAction, DsnRecipient, DsnReport, OriginalHeaders } from './inbound-report.js';
import { addressOf, fieldOf, hostOf, messageIdOf, parseFieldGroups, statusOf, withoutType, type FieldGroup } from './report-fields.js';

const ACTIONS: ReadonlySet<string> = new Set<DsnAction>(['failed', 'delayed', 'delivered', 'relayed', 'expanded']);
/** A DSN reports on at most this many recipients here (a report of more is cut, not refused). */
const MAX_RECIPIENTS = 1000;

const isRecipientBlock = (g: FieldGroup) => g.some(([n]) => n === 'final-recipient' || n === 'original-recipient');

/** "failed (bad destination mailbox)" → "failed"; unknown actions → null. */
function actionOf(value: string | null): DsnAction | null {
  const word = value?.split(/[\s(;]/, 1)[0]!.toLowerCase() ?? '';
  return ACTIONS.has(word) ? (word as DsnAction) : null;
}

function recipientOf(g: FieldGroup): DsnRecipient {
  const diagnostic = fieldOf(g, 'diagnostic-code');
  return {
    finalRecipient: addressOf(fieldOf(g, 'final-recipient')),
    originalRecipient: addressOf(fieldOf(g, 'original-recipient')),
    action: actionOf(fieldOf(g, 'action')),
    status: statusOf(fieldOf(g, 'status')),
    diagnosticCode: diagnostic === null ? null : withoutType(diagnostic) || null,
    remoteMta: hostOf(fieldOf(g, 'remote-mta')),
  };
}

/**
 * The DSN in `deliveryStatus` (the body of the message/delivery-status part). `original`: the
 * returned message's headers, when it came back; `namedMessageId`: a Message-ID the report names
 * otherwise (its In-Reply-To), used when the original did not come back.
 */
export function readDsn(deliveryStatus: string, original: OriginalHeaders | null, namedMessageId: string | null): DsnReport {
  const groups = parseFieldGroups(deliveryStatus);
  const perMessage: FieldGroup = groups.filter((g) => !isRecipientBlock(g)).flat();
  return {
    kind: 'dsn',
    reportingMta: hostOf(fieldOf(perMessage, 'reporting-mta')),
    recipients: groups.filter(isRecipientBlock).slice(0, MAX_RECIPIENTS).map(recipientOf),
    // Gmail also names the original in the per-message block.
    originalMessageId: original?.messageId ?? messageIdOf(fieldOf(perMessage, 'x-original-message-id')) ?? namedMessageId,
    originalEnvelopeId: fieldOf(perMessage, 'original-envelope-id'),
    originalReturnPath: original?.returnPath ?? null,
  };
}

