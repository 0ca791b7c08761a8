import type { RedisClient } from '@mailroom/queue';
import type { ConnectionGate } from '../connections-per-ip';
import type { AccessAuthenticator, AccessEvents, AccessUser } from '@mailroom/access';
import type { Config, TlsPair } from '@mailroom/config';
import type { Logger } from '@mailroom/logger';
import type { Pop3Metrics } from './pop3-metrics';
import type { ProxyProtocol } from '@mailroom/net';

/** Who logged in: the AccessUser of @mailroom/access. */
export type Pop3User = AccessUser;

/** Logins with service 'pop3'; throws AccessDenied. isCurrent re-checks a session after lost events. */
export type Pop3Authenticator = Pick<AccessAuthenticator, 'authenticate' | 'isCurrent'>;

export interface Pop3MessageMeta {
  id: string;
  uid: number;
  flags: string[];
  size: number;
  receivedAt: Date;
  blobSha256: string;
}

/** The mail store read and folder API (contracts §2) that POP3 uses; MailStore satisfies it. */
export interface Pop3Store {
  listFolders(tenantId: string, mailboxId: string): Promise<Array<{ id: string; kind: string; name: string }>>;
  snapshot(tenantId: string, folderId: string): Promise<{ messages: Array<{ uid: number }> }>;
  messages(tenantId: string, folderId: string, uids: number[]): Promise<Pop3MessageMeta[]>;
  readBlob(tenantId: string, sha256: string): AsyncIterable<Buffer>;
  setFlags(tenantId: string, folderId: string, uids: number[], op: 'add', flags: string[]): Promise<unknown>;
  expunge(tenantId: string, folderId: string, uids?: number[]): Promise<number[]>;
  move(tenantId: string, fromFolderId: string, uids: number[], toFolderId: string): Promise<unknown>;
}

/** The process's access events ('mailroom_access' revocations, and word when LISTEN reconnected). */
export type Pop3Events = Pick<AccessEvents, 'onRevoked' | 'onReconnected'>;

/** Limits with no config setting (tests lower them). */
export interface Pop3Tuning {
  /** Idle time before login (RFC 1939 section 3 allows an autologout timer of at least 10 minutes after it). */
  authTimeoutMs: number;
  idleTimeoutMs: number;
  /** Commands a client may send before it has logged in. */
  maxUnauthCommands: number;
  /** Failed logins on one connection before it is closed. */
  maxAuthFailures: number;
  /** RFC 2449 section 4: commands up to 255 octets; SASL responses may be longer (RFC 5034). */
  maxLineBytes: number;
  /** The maildrop lock lives this long unless renewed (a crashed process frees it by expiry). */
  lockTtlMs: number;
  /** A TLS handshake (POP3S, or after STLS) that has not finished by then is dropped. */
  tlsHandshakeMs: number;
}

export interface Pop3Deps {
  config: Config;
  logger: Logger;
  tls: TlsPair;
  authenticator: Pop3Authenticator;
  store: Pop3Store;
  events: Pop3Events;
  /** The maildrop lock (RFC 1939 section 8: one session per maildrop). */
  redis: RedisClient;
  metrics: Pop3Metrics;
  tuning?: Partial<Pop3Tuning>;
  /** Counts connections per IP instead of this process (a cluster worker asks the primary). */
  connectionGate?: ConnectionGate;
  /** PROXY protocol on both listeners (PROXY_PROTOCOL_TRUSTED_NETWORKS); absent: off. */
  proxy?: ProxyProtocol;
}

export const DEFAULT_TUNING: Pop3Tuning = {
  authTimeoutMs: 60_000,
  idleTimeoutMs: 10 * 60_000,
  maxUnauthCommands: 20,
  maxAuthFailures: 3,
  maxLineBytes: 512,
  lockTtlMs: 60_000,
  tlsHandshakeMs: 30_000,
};
