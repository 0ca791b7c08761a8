import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, ROOT } from '@test/support/processes';

const run = promisify(execFile);

export interface PrivatePostgres {
  url: string;
  port: number;
  /** pg_ctl stop: `immediate` is a crash (no checkpoint; WAL replay at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL cluster of this test's own (initdb in a temp dir, a free port on 127.0.0.1), so a
 * test can stop the real server without touching the one every other test file shares. As root,
 * the server runs as the `postgres` user, as scripts/services.sh does.
 */
export async function startPrivatePostgres(database = 'mailroom'): Promise<PrivatePostgres> {
  const asRoot = process.getuid?.() === 0;
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-fault-pg-'));
  fs.chmodSync(parent, 0o755);
  const data = path.join(parent, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  if (asRoot) await run('chown', ['postgres', data]);
  const pg = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args);
  await pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale']);
  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${data} -c fsync=on -c max_connections=60`;
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-l', path.join(data, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await pg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']).catch(() => undefined);
  };
  await start();
  const admin = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  await run('psql', [admin, '-qc', `CREATE DATABASE "${database}"`]);
  const url = `postgresql://postgres@127.0.0.1:${port}/${database}`;
  // The project's own migration runner, exactly as `npm run db:migrate` applies them.
  await run(process.execPath, [path.join(ROOT, 'scripts/prisma-wasm.mjs'), 'deploy'], {
    env: { ...process.env, DATABASE_URL: url },
    cwd: ROOT,
  });
  return {
    url,
    port,
    stop,
    start,
    destroy: async () => {
      await stop('immediate');
      fs.rmSync(parent, { recursive: true, force: true });
    },
  };
}
