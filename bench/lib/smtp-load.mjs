// The SMTP load generator: nodemailer's SMTPConnection, plaintext, from several loopback source
// addresses. Latency is measured from the moment the last byte of the message has been handed
// to the socket (the source stream ends) to the 250 reply for DATA.
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { root } from './report.mjs';

const require = createRequire(import.meta.url);
// The package exports only its entry point; the connection class is a file inside it.
const SMTPConnection = require(path.join(root, 'node_modules/nodemailer/dist/cjs/smtp-connection/index.js'));

/** How many loopback source addresses clients spread over (127.0.0.1 .. 127.0.0.N). */
export const SOURCE_ADDRESSES = 50;

function connect(port, localAddress) {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection({
      host: '127.0.0.1',
      port,
      localAddress,
      name: 'client.bench.test',
      ignoreTLS: true,
      connectionTimeout: 60_000,
      greetingTimeout: 60_000,
      socketTimeout: 120_000,
    });
    conn.once('error', reject);
    conn.connect(() => {
      conn.removeListener('error', reject);
      conn.on('error', () => undefined);
      resolve(conn);
    });
  });
}

function send(conn, job) {
  return new Promise((resolve) => {
    let bodySent = 0;
    const source = Readable.from([job.raw], { objectMode: false });
    source.once('end', () => {
      bodySent = performance.now();
    });
    conn.send({ from: job.from, to: job.to }, source, (err, info) => {
      const done = performance.now();
      if (err) resolve({ ok: false, error: err.response ?? err.message, accepted: 0 });
      else resolve({ ok: true, latencyMs: done - (bodySent || done), accepted: info.accepted.length });
    });
  });
}

function quit(conn) {
  return new Promise((resolve) => {
    conn.once('end', resolve);
    conn.quit();
    setTimeout(resolve, 2000).unref();
  });
}

/**
 * Sends every job. `perConnection: 'many'`: `sessions` long sessions share the queue;
 * `perConnection: 'one'`: `sessions` concurrent clients each open a connection per message.
 * Returns counts, per-message latencies and the wall time from first connect to last reply.
 */
export async function runLoad({ port, jobs, sessions, perConnection }) {
  let next = 0;
  const latencies = [];
  const errors = new Map();
  let acked = 0;
  let ackedRecipients = 0;
  let failed = 0;
  const record = (result) => {
    if (result.ok) {
      acked++;
      ackedRecipients += result.accepted;
      latencies.push(result.latencyMs);
    } else {
      failed++;
      const key = String(result.error).slice(0, 120);
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
  };
  const take = () => (next < jobs.length ? jobs[next++] : null);

  async function longSession(i) {
    const localAddress = `127.0.0.${(i % SOURCE_ADDRESSES) + 1}`;
    let conn = null;
    for (let job = take(); job; job = take()) {
      try {
        conn ??= await connect(port, localAddress);
      } catch (err) {
        record({ ok: false, error: `connect: ${err.message}` });
        continue;
      }
      const result = await send(conn, job);
      record(result);
      if (!result.ok) {
        conn.close();
        conn = null;
      }
    }
    if (conn) await quit(conn);
  }

  async function shortSessions(i) {
    const localAddress = `127.0.0.${(i % SOURCE_ADDRESSES) + 1}`;
    for (let job = take(); job; job = take()) {
      let conn;
      try {
        conn = await connect(port, localAddress);
      } catch (err) {
        record({ ok: false, error: `connect: ${err.message}` });
        continue;
      }
      record(await send(conn, job));
      await quit(conn);
    }
  }

  const started = performance.now();
  const worker = perConnection === 'one' ? shortSessions : longSession;
  await Promise.all(Array.from({ length: sessions }, (_, i) => worker(i)));
  const wallSeconds = (performance.now() - started) / 1000;
  return { acked, ackedRecipients, failed, errors: Object.fromEntries(errors), latencies, wallSeconds };
}
