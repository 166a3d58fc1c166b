// Owns how a stored message's DSN parameters (NewMessage.dsn, one JSON value per message in both
// stores) are handed to delivery with a claimed job: RET/ENVID on the job, each recipient's
// NOTIFY/ORCPT on its recipient. Shared by the SQLite and PostgreSQL claims.
import type { MessageDsn } from '../message/dsn-params.js';
import type { DeliveryJob } from './store.js';

type JobRecipient = DeliveryJob['recipients'][number];

/** The recipient with its NOTIFY/ORCPT, when its message has any for it. */
export function withRecipientDsn(r: JobRecipient, dsn: MessageDsn | null): JobRecipient {
  const own = dsn?.recipients && Object.hasOwn(dsn.recipients, r.address) ? dsn.recipients[r.address] : undefined;
  return own ? { ...r, dsn: own } : r;
}

/** The job's `dsn` field (RET, ENVID), when the message has either. */
export function messageDsn(dsn: MessageDsn | null): Pick<DeliveryJob, 'dsn'> {
  if (!dsn || (!dsn.ret && !dsn.envid)) return {};
  return { dsn: { ...(dsn.ret ? { ret: dsn.ret } : {}), ...(dsn.envid ? { envid: dsn.envid } : {}) } };
}
