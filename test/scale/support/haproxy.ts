import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@test/support/processes';
import { runHaproxy } from '@test/support/haproxy';

/**
 * PROXY protocol v2 towards the MTA and IMAP replicas (`send-proxy-v2` on their server lines), as
 * compose/haproxy.cfg sends it. The balancer connects to the apps from its own loopback address,
 * BALANCER_ADDRESS, which is the apps' only trusted proxy (PROXY_PROTOCOL_TRUSTED_NETWORKS for the
 * MTA and IMAP, TRUST_PROXY for the API): the apps then see each client's own address, and a
 * test's direct connection (from 127.0.0.1) is served without a header.
 */
export const SEND_PROXY_V2 = true;
export const BALANCER_ADDRESS = '127.0.0.200';

/** One replica as the balancer sees it: its name and the loopback ports it listens on. */
export interface ApiTarget {
  name: string;
  port: number;
}
export interface MtaTarget {
  name: string;
  smtp: number;
  submission: number;
  submissions: number;
  /** MTA_HEALTH_PORT: GET /health answers 503 once PostgreSQL or Redis is gone. */
  health: number;
}
export interface ImapTarget {
  name: string;
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
  /** IMAP_HEALTH_PORT. */
  health: number;
}

/** What the balancer listens on, one frontend each, as compose/haproxy.cfg's :3000, :25, ... */
export interface Frontends {
  api: number;
  smtp: number;
  submission: number;
  submissions: number;
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
}

/**
 * compose/haproxy.cfg for processes on this machine: the same frontends, backends, balancing
 * and health checks, with loopback addresses instead of compose's names (so no `resolvers`),
 * a smaller maxconn, and checks every second, down after two failures, so a killed replica leaves the rotation
 * within about two seconds in a test (HAProxy's default: every 2 s, three failures). The API's
 * responses carry X-Mailroom-Backend (the server's name): the test sees which replica answered.
 */
export function haproxyConfig(
  fe: Frontends,
  targets: { api: ApiTarget[]; mta: MtaTarget[]; imap: ImapTarget[] },
  statsSocket: string,
): string {
  const proxy = SEND_PROXY_V2 ? ' send-proxy-v2' : '';
  const tcp = (name: string, bind: number, servers: string[], timeout?: string) =>
    [
      `frontend ${name}`,
      `  bind 127.0.0.1:${bind}`,
      ...(timeout ? [`  timeout client ${timeout}`] : []),
      `  default_backend ${name}`,
      `backend ${name}`,
      ...(timeout ? [`  timeout server ${timeout}`] : []),
      '  option httpchk GET /health',
      ...servers,
      '',
    ].join('\n');
  const mta = (port: (m: MtaTarget) => number) =>
    targets.mta.map((m) => `  server ${m.name} 127.0.0.1:${port(m)} port ${m.health}${proxy}`);
  const imap = (port: (m: ImapTarget) => number) =>
    targets.imap.map((m) => `  server ${m.name} 127.0.0.1:${port(m)} port ${m.health}${proxy}`);
  return [
    'global',
    // compose's 20000 needs twice as many file descriptors as a test's shell may grant.
    '  maxconn 4000',
    `  stats socket ${statsSocket} mode 600 level admin`,
    '',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 10m',
    '  timeout server 10m',
    // As compose/haproxy.cfg: a connection refused by a replica the checks still call up is
    // tried again on another replica, not handed to the client as a dead session.
    '  retries 3',
    '  option redispatch',
    '  default-server check inter 1s fall 2 rise 1',
    `  source ${BALANCER_ADDRESS}`,
    '',
    'frontend api',
    '  mode http',
    `  bind 127.0.0.1:${fe.api}`,
    '  timeout client 60s',
    '  default_backend api',
    'backend api',
    '  mode http',
    // A client stays on one API process, so it reads its own writes (DATABASE_REPLICA_STICKY_MS).
    '  balance source',
    '  option forwardfor',
    '  option httpchk GET /health',
    '  timeout server 60s',
    '  http-response set-header X-Mailroom-Backend %[srv_name]',
    ...targets.api.map((a) => `  server ${a.name} 127.0.0.1:${a.port}`),
    '',
    tcp(
      'smtp',
      fe.smtp,
      mta((m) => m.smtp),
    ),
    tcp(
      'submission',
      fe.submission,
      mta((m) => m.submission),
    ),
    tcp(
      'submissions',
      fe.submissions,
      mta((m) => m.submissions),
    ),
    // IMAP IDLE holds a connection for up to 30 minutes between commands (RFC 9051 5.4).
    tcp(
      'imap',
      fe.imap,
      imap((m) => m.imap),
      '31m',
    ),
    tcp(
      'imaps',
      fe.imaps,
      imap((m) => m.imaps),
      '31m',
    ),
    tcp(
      'pop3',
      fe.pop3,
      imap((m) => m.pop3),
    ),
    tcp(
      'pop3s',
      fe.pop3s,
      imap((m) => m.pop3s),
    ),
  ].join('\n');
}

/** One line of `show stat`: a server of a backend and what its checks say (UP, DOWN, ...). */
export interface ServerState {
  backend: string;
  server: string;
  status: string;
  /** Sessions taken from this server to another after failed connections (wredis). */
  redispatched: number;
}

export interface Balancer {
  fe: Frontends;
  config: string;
  /** The servers' states from the stats socket (BACKEND and FRONTEND rows left out). */
  servers(): Promise<ServerState[]>;
  /** Waits until every server line of `name` (every server when undefined) reports `status`. */
  waitFor(status: 'UP' | 'DOWN', name?: string, timeoutMs?: number): Promise<void>;
  /** One command on the runtime API (the stats socket, admin level): its answer. */
  command(line: string): Promise<string>;
  output(): string;
  stop(): Promise<void>;
}

/** Debian's HAProxy in the foreground (-db) on free loopback ports, with a generated config. */
export async function startHaproxy(targets: Parameters<typeof haproxyConfig>[1]): Promise<Balancer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-haproxy-'));
  const fe: Frontends = {
    api: await freePort(),
    smtp: await freePort(),
    submission: await freePort(),
    submissions: await freePort(),
    imap: await freePort(),
    imaps: await freePort(),
    pop3: await freePort(),
    pop3s: await freePort(),
  };
  const socket = path.join(dir, 'admin.sock');
  const config = haproxyConfig(fe, targets, socket);
  const proc = await runHaproxy(dir, config, Object.values(fe));
  const servers = async (): Promise<ServerState[]> => {
    const csv = await statsCommand(socket, 'show stat');
    return csv
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(','))
      .filter((f) => f[1] !== 'BACKEND' && f[1] !== 'FRONTEND')
      .map((f) => ({
        backend: f[0]!,
        server: f[1]!,
        status: f[17]!,
        redispatched: Number(f[16] || 0),
      }));
  };
  const waitFor = async (status: 'UP' | 'DOWN', name?: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: ServerState[] = [];
    for (;;) {
      if (proc.exitCode() !== null) throw new Error(`haproxy exited (${proc.exitCode()}): ${proc.output()}`);
      last = await servers().catch(() => []);
      const mine = last.filter((s) => name === undefined || s.server === name);
      if (mine.length > 0 && mine.every((s) => s.status.startsWith(status))) return;
      if (Date.now() > deadline) {
        throw new Error(`haproxy: not all ${name ?? 'servers'} ${status}: ${JSON.stringify(last)}`);
      }
      await sleep(200);
    }
  };
  return {
    fe,
    config,
    servers,
    waitFor,
    command: (line) => statsCommand(socket, line),
    output: () => proc.output(),
    stop: () => proc.stop(),
  };
}

/** One command on HAProxy's stats socket (the runtime API): the whole answer. */
function statsCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket, () => conn.end(`${command}\n`));
    let answer = '';
    conn.on('data', (d: Buffer) => (answer += d.toString()));
    conn.on('end', () => resolve(answer));
    conn.on('error', reject);
  });
}
