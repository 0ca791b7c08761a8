// The inbound baselines: a bare smtp-server with the same protocol options as the MX, which
// either discards each message or INSERTs the raw bytes with plain pg and then answers 250.
// No recipient lookup, no SPF/DKIM, no parsing: the ceiling of smtp-server (+ pg) here.
//
//   node bench/lib/bare-smtp.mjs discard <port>
//   node bench/lib/bare-smtp.mjs pg <port>        (DATABASE_URL names the database)
import { SMTPServer } from 'smtp-server';
import pg from 'pg';

const [mode, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!['discard', 'pg'].includes(mode) || !port) {
  process.stderr.write('usage: bare-smtp.mjs discard|pg <port>\n');
  process.exit(2);
}

let pool = null;
if (mode === 'pg') {
  pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_raw_messages (
    id bigserial PRIMARY KEY, mail_from text NOT NULL, rcpt_to text[] NOT NULL, raw bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now())`);
}

const server = new SMTPServer({
  name: 'bare.bench.test',
  banner: 'bare ESMTP',
  logger: false,
  disableReverseLookup: true,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  size: 52_428_800,
  maxClients: 1000,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => {
      if (mode === 'pg') chunks.push(chunk);
    });
    stream.on('end', () => {
      if (mode === 'discard') return callback(null, 'Ok: discarded');
      pool
        .query('INSERT INTO bench_raw_messages (mail_from, rcpt_to, raw) VALUES ($1, $2, $3)', [
          session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          session.envelope.rcptTo.map((r) => r.address),
          Buffer.concat(chunks),
        ])
        .then(
          () => callback(null, 'Ok: stored'),
          (err) => callback(Object.assign(new Error('4.3.0 not stored'), { responseCode: 451, cause: err })),
        );
    });
  },
});
server.on('error', (err) => process.stderr.write(`bare-smtp: ${err.message}\n`));
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
const stop = () => server.close(() => (pool ? pool.end() : Promise.resolve()).then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
