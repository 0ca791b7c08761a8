import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, ROOT } from './processes';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../../scripts/pg-replica.sh');
const BIN = '/usr/lib/postgresql/15/bin';

export interface PgPair {
  /** The private primary's URL (DATABASE_URL of the apps). */
  primaryUrl: string;
  /** The streaming replica's URL (DATABASE_REPLICA_URLS, or DATABASE_URL once promoted). */
  replicaUrl: string;
  /** pg_ctl stop of the primary: `immediate` is a crash (no checkpoint, no goodbye to the replica). */
  stopPrimary(mode?: 'fast' | 'immediate'): Promise<void>;
  /** pg_ctl stop of the replica (fast): with `sync`, the primary's commits then wait for it. */
  stopReplica(): Promise<void>;
  /** scripts/pg-replica.sh promote: the replica becomes a primary; returns its URL. */
  promote(): Promise<string>;
  /** scripts/pg-replica.sh status (exit code ignored). */
  status(): Promise<string>;
  /** Stops both servers and removes their data. */
  stop(): Promise<void>;
}

/**
 * A private PostgreSQL primary and a streaming replica of it (scripts/pg-replica.sh with
 * MAILROOM_PG_PRIMARY_PORT, data in a temporary folder, free ports), with the project's
 * migrations applied on the primary (the replica follows). `sync`: the primary's commits wait
 * for the replica (synchronous_standby_names, synchronous_commit = on). A test that kills the
 * primary uses this, never the shared server.
 */
export async function startPgPair(options: { sync: boolean; database?: string }): Promise<PgPair> {
  const database = options.database ?? 'mailroom';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-pgpair-'));
  fs.chmodSync(dir, 0o755);
  const primaryPort = await freePort();
  const replicaPort = await freePort();
  const env = {
    ...process.env,
    MAILROOM_PG_REPLICA_DIR: dir,
    MAILROOM_PG_PRIMARY_PORT: String(primaryPort),
    MAILROOM_PG_REPLICA_PORT: String(replicaPort),
    MAILROOM_PG_REPLICA_SYNC: options.sync ? '1' : '0',
    MAILROOM_PG_DATABASE: database,
  };
  const script = (command: string) => run('bash', [SCRIPT, command], { env, timeout: 120_000 });
  const { stdout } = await script('up');
  const primaryUrl = /^DATABASE_URL=(.*)$/m.exec(stdout)![1]!;
  const replicaUrl = /^DATABASE_REPLICA_URLS=(.*)$/m.exec(stdout)![1]!;
  // The project's own migration runner, exactly as `npm run db:migrate` applies them.
  await run(process.execPath, [path.join(ROOT, 'scripts/prisma-wasm.mjs'), 'deploy'], {
    env: { ...process.env, DATABASE_URL: primaryUrl },
    cwd: ROOT,
  });
  const asPg = (cmd: string, args: string[]) =>
    process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args);
  return {
    primaryUrl,
    replicaUrl,
    stopPrimary: async (mode = 'immediate') => {
      await asPg(path.join(BIN, 'pg_ctl'), ['-D', path.join(dir, 'primary'), '-m', mode, '-w', 'stop']);
    },
    stopReplica: async () => {
      await asPg(path.join(BIN, 'pg_ctl'), ['-D', path.join(dir, 'replica'), '-m', 'fast', '-w', 'stop']);
    },
    promote: async () => /^DATABASE_URL=(.*)$/m.exec((await script('promote')).stdout)![1]!,
    status: async () => (await script('status').catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout,
    stop: async () => {
      await script('down');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
