import { createHash } from 'node:crypto';
import { blobSize, type StreamedBlob } from '@mailroom/db';
import { blobStore } from './blob-store';
import { FolderNotFound, MailboxUnavailable, QuotaExceeded } from './errors';
import {
  createSpecialFolder,
  insertMessage,
  mailboxState,
  tenantQuota,
  type FolderTarget,
  type MessageRowInput,
} from './message.repository';
import { tenantUsage, type TenantUsage } from './tenant-usage';
import type { GeneratedMessage, HeaderSummary, StoreTx, StoredMessage } from './types';

export const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The content hash of a message held whole, or the one a streamed message carries. */
export const blobSha256 = (bytes: Buffer | StreamedBlob) => (Buffer.isBuffer(bytes) ? sha256Of(bytes) : bytes.sha256);

/**
 * One copy into one mailbox, the rule every writer shares: a missing special folder is made and
 * the copy tried again; a refusal says why (the caller's transaction rolls back either way).
 */
export async function storeCopy(
  tx: StoreTx,
  tenantId: string,
  mailboxId: string,
  folder: FolderTarget,
  row: MessageRowInput,
): Promise<StoredMessage> {
  let target = folder;
  for (let attempt = 0; attempt < 2; attempt++) {
    const outcome = await insertMessage(tx, tenantId, mailboxId, target, row);
    if (outcome.kind === 'stored') return outcome;
    if (outcome.kind === 'refused') break;
    if (target.folderId !== null || !isSpecial(target.kind)) break;
    // No folder of that kind yet (a mailbox made before its folders): create it, then again.
    target = { ...target, name: await createSpecialFolder(tx, tenantId, mailboxId, target.kind) };
  }
  const state = await mailboxState(tx, tenantId, mailboxId, row.size);
  if (!state || state.status !== 'active') throw new MailboxUnavailable(tenantId, mailboxId, state?.status ?? null);
  if (!state.fits) throw new QuotaExceeded('mailbox', tenantId, mailboxId);
  throw new FolderNotFound(tenantId, folder.folderId ?? folder.name ?? folder.kind);
}

/** The tenant's plan limit on storage, from the per-process usage cache. */
export async function checkTenantQuota(usage: TenantUsage, tx: StoreTx, tenantId: string, addedBytes: number) {
  const quota = await tenantQuota(tx, tenantId);
  const used = await usage.used(tx, tenantId);
  if (quota === null || used + BigInt(addedBytes) > quota) throw new QuotaExceeded('tenant', tenantId, null);
  usage.add(tenantId, addedBytes);
}

/**
 * A message we generated (a DSN) into one of a mailbox's special folders, in the caller's
 * transaction, under the same quota and status rules as received mail.
 */
export async function storeGeneratedMessage(
  tx: StoreTx,
  m: GeneratedMessage,
  usage: TenantUsage = tenantUsage,
): Promise<StoredMessage> {
  // The tenant limit first: a caller that drops a refused DSN keeps its transaction, so nothing
  // may have been written when this throws.
  await checkTenantQuota(usage, tx, m.tenantId, m.raw.length);
  const sha256 = sha256Of(m.raw);
  await blobStore().keep(tx, { tenantId: m.tenantId, sha256, bytes: m.raw });
  const header = { ...emptyHeader(), subject: m.subject, fromAddress: m.fromAddress, messageId: m.messageId };
  return storeCopy(
    tx,
    m.tenantId,
    m.mailboxId,
    { folderId: null, name: null, kind: m.folderKind },
    {
      ...rowInput(m.raw, sha256),
      envelopeFrom: m.envelopeFrom,
      envelopeTo: m.envelopeTo,
      header,
    },
  );
}

const isSpecial = (kind: string): kind is 'inbox' | 'junk' | 'sent' =>
  kind === 'inbox' || kind === 'junk' || kind === 'sent';

export function specialFolder(kind: 'inbox' | 'junk' | 'sent'): FolderTarget {
  return { folderId: null, name: null, kind };
}

export function emptyHeader(): HeaderSummary {
  return {
    messageId: null,
    subject: null,
    fromAddress: null,
    fromName: null,
    toAddresses: [],
    sentAt: null,
    sortKeys: null,
  };
}

export function rowInput(bytes: Buffer | StreamedBlob, sha256: string): MessageRowInput {
  return {
    sha256,
    size: blobSize(bytes),
    flags: [],
    envelopeFrom: '',
    envelopeTo: '',
    remoteIp: null,
    helo: null,
    header: emptyHeader(),
    spamScore: null,
    authResults: null,
    filterTrace: null,
    receivedAt: null,
  };
}
