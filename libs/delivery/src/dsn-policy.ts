/** What a delivery's outcome may notify its sender of (RFC 3461 NOTIFY). */
export type DsnEvent = 'failure' | 'success' | 'delay';

const TOKEN: Record<DsnEvent, string> = { failure: 'FAILURE', success: 'SUCCESS', delay: 'DELAY' };

/**
 * Whether the sender asked for a DSN on `event`, given the recipient's NOTIFY tokens (upper
 * case; empty when RCPT had no NOTIFY). RFC 3461 §4.1: NEVER asks for none; without NOTIFY, an
 * MTA reports failures (and may report delays: we do not, as Postfix does not).
 */
export function dsnRequested(notify: readonly string[], event: DsnEvent): boolean {
  if (notify.includes('NEVER')) return false;
  if (notify.length === 0) return event === 'failure';
  return notify.includes(TOKEN[event]);
}

/** The DSN parameters of one SMTP transaction (nodemailer's envelope `dsn`). */
export interface DsnParams {
  ret?: 'FULL' | 'HDRS';
  envid?: string;
  notify?: string[];
  orcpt?: string;
}

/**
 * The parameters to pass on to the next hop (RFC 3461 §5.2.1-5.2.2): RET and ENVID of the
 * message, NOTIFY and ORCPT of the recipient, each only when the sender gave it. Null when
 * there is nothing to pass on. The client sends them only to a server that advertises DSN.
 */
export function dsnParams(
  message: { dsnRet: string | null; dsnEnvid: string | null },
  recipient: { dsnNotify: readonly string[]; dsnOrcpt: string | null },
): DsnParams | null {
  const params: DsnParams = {};
  if (message.dsnRet === 'FULL' || message.dsnRet === 'HDRS') params.ret = message.dsnRet;
  if (message.dsnEnvid) params.envid = message.dsnEnvid;
  if (recipient.dsnNotify.length > 0) params.notify = [...recipient.dsnNotify];
  if (recipient.dsnOrcpt) params.orcpt = recipient.dsnOrcpt;
  return Object.keys(params).length > 0 ? params : null;
}

/**
 * After a successful hand-off: the Action of a success DSN, or null when we owe none. A next
 * hop that took the DSN request (it advertised DSN, NOTIFY went on) reports delivery itself;
 * one that did not makes us report 'relayed' (RFC 3461 §5.2.2.2, RFC 3464 §2.3.3).
 */
export function successAction(notify: readonly string[], nextHopTookDsn: boolean): 'relayed' | null {
  if (!dsnRequested(notify, 'success')) return null;
  return nextHopTookDsn ? null : 'relayed';
}
