// The outbound benchmarks' destination MX: a minimal SMTP server in its own process that
// discards every message and records, per recipient, when it was accepted. It can answer
// 451 4.3.0 to the first attempt of every k-th recipient (r<n>@…, n % k === 0): at RCPT when
// n / k is even, after DATA when it is odd, so both places a real MX defers are exercised.
//
// PIPELINING (RFC 2920) is offered, as every common MX offers it (Postfix, Gmail, Exchange):
// Postfix's client and nodemailer (10.6.1, our lock) then send MAIL, RCPT and DATA together, and
// the replies to one batch leave in one write. No STARTTLS or AUTH; the greeting is sent after
// `greetMs` (0 by default; smtp-server, the inbound baseline's sink, always waits 100 ms there).
//
// Run by startSink() below through fork(): the parent resets it and reads what it recorded over
// the IPC channel; times are epoch milliseconds (performance.timeOrigin + performance.now()).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, peakRssMb } from './env.mjs';

const self = fileURLToPath(import.meta.url);
const now = () => performance.timeOrigin + performance.now();
const END_OF_DATA = Buffer.from('\r\n.\r\n');

/** Starts the sink process; resolves once it listens. */
export async function startSink({ greetMs = 0 } = {}) {
  const logFile = path.join(fs.mkdtempSync('/tmp/mailroom-bench-'), 'sink.log');
  const out = fs.openSync(logFile, 'a');
  const child = fork(self, ['--serve', String(greetMs)], { stdio: ['ignore', out, out, 'ipc'] });
  fs.closeSync(out);
  const pending = new Map();
  let nextId = 0;
  let onReady;
  const ready = new Promise((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code) => reject(new Error(`sink exited with ${code}: ${fs.readFileSync(logFile, 'utf8')}`)));
  });
  child.on('message', (msg) => {
    if (msg.ready) onReady(msg.port);
    pending.get(msg.id)?.(msg.result);
    pending.delete(msg.id);
  });
  const call = (cmd, args = {}) =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      child.send({ id, cmd, ...args });
    });
  const port = await ready;
  return {
    port,
    pid: child.pid,
    logFile,
    cpu: () => cpuSeconds(child.pid),
    peakRssMb: () => peakRssMb(child.pid),
    /** Forgets everything recorded; `failEvery` 0 accepts all; `failBelow` > 0 defers only recipients r<n> with n below it. */
    reset: (failEvery = 0, failBelow = 0) => call('reset', { failEvery, failBelow }),
    /** How many distinct recipients were accepted so far (cheap, for polling). */
    accepted: () => call('accepted'),
    /** { arrivals: { rcpt: [ms, …] }, deferredAt: { rcpt: ms }, tempfails: { rcpt, data }, sessions, transactions }. */
    report: () => call('report'),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function serve(greetMs) {
  let failEvery = 0;
  let failBelow = 0;
  let arrivals = new Map(); // recipient -> accepted at (ms)[]
  let deferredAt = new Map(); // recipient -> when its first attempt was deferred (ms)
  let stats = { tempfails: { rcpt: 0, data: 0 }, sessions: 0, transactions: 0 };

  // Which place, if any, defers this recipient's current attempt: 'rcpt', 'data' or null.
  const failure = (rcpt) => {
    if (!failEvery || deferredAt.has(rcpt)) return null;
    const n = Number(/^r(\d+)@/.exec(rcpt)?.[1] ?? NaN);
    if (!Number.isInteger(n) || n % failEvery !== 0 || (failBelow > 0 && n >= failBelow)) return null;
    return (n / failEvery) % 2 === 0 ? 'rcpt' : 'data';
  };

  const server = net.createServer((socket) => {
    stats.sessions++;
    let inData = false;
    let lines = '';
    let tail = Buffer.alloc(0); // the end of the data seen so far, to find "\r\n.\r\n" across chunks
    let rcpts = [];
    const reply = (text) => socket.write(`${text}\r\n`);

    const command = (line) => {
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') return reply('250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800');
      if (verb === 'HELO') return reply('250 sink.bench.test');
      if (verb === 'MAIL') {
        rcpts = [];
        return reply('250 2.1.0 Ok');
      }
      if (verb === 'RCPT') {
        const rcpt = (/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase();
        if (failure(rcpt) === 'rcpt') {
          deferredAt.set(rcpt, now());
          stats.tempfails.rcpt++;
          return reply('451 4.3.0 Try again later (bench)');
        }
        rcpts.push(rcpt);
        return reply('250 2.1.5 Ok');
      }
      if (verb === 'DATA') {
        if (rcpts.length === 0) return reply('554 5.5.1 No valid recipients');
        inData = true;
        tail = Buffer.from('\r\n'); // a message may end at once: ".\r\n"
        return reply('354 End data with <CR><LF>.<CR><LF>');
      }
      if (verb === 'RSET') {
        rcpts = [];
        return reply('250 2.0.0 Ok');
      }
      if (verb === 'NOOP') return reply('250 2.0.0 Ok');
      if (verb === 'QUIT') {
        reply('221 2.0.0 Bye');
        return socket.end();
      }
      return reply('502 5.5.2 Command not implemented');
    };

    const endOfData = () => {
      inData = false;
      stats.transactions++;
      const deferred = rcpts.filter((r) => failure(r) === 'data');
      if (deferred.length > 0) {
        for (const r of deferred) deferredAt.set(r, now());
        stats.tempfails.data++;
        rcpts = [];
        return reply('451 4.3.0 Try again later (bench)');
      }
      const at = now();
      for (const r of rcpts) {
        const list = arrivals.get(r);
        if (list) list.push(at);
        else arrivals.set(r, [at]);
      }
      rcpts = [];
      return reply('250 2.0.0 Ok: discarded');
    };

    const onCommands = (text) => {
      lines += text;
      let eol;
      while (!inData && (eol = lines.indexOf('\r\n')) >= 0) {
        const line = lines.slice(0, eol);
        lines = lines.slice(eol + 2);
        command(line);
      }
    };

    socket.on('data', (chunk) => {
      // The replies to what one read brought go out in one write, as Postfix's smtpd flushes
      // its replies only when it has read all the client sent.
      socket.cork();
      process.nextTick(() => socket.uncork());
      if (!inData) {
        onCommands(chunk.toString('latin1'));
        if (!inData) return;
        // DATA was accepted: whatever followed in this chunk is message content.
        chunk = Buffer.from(lines, 'latin1');
        lines = '';
      }
      const hay = Buffer.concat([tail, chunk]);
      const end = hay.indexOf(END_OF_DATA);
      if (end < 0) {
        tail = hay.subarray(Math.max(0, hay.length - 4));
        return;
      }
      endOfData();
      onCommands(hay.subarray(end + END_OF_DATA.length).toString('latin1'));
    });
    socket.on('error', () => undefined);
    setTimeout(() => socket.writable && reply('220 sink.bench.test ESMTP bench sink'), greetMs);
  });

  process.on('message', (msg) => {
    let result = null;
    if (msg.cmd === 'reset') {
      failEvery = msg.failEvery;
      failBelow = msg.failBelow ?? 0;
      arrivals = new Map();
      deferredAt = new Map();
      stats = { tempfails: { rcpt: 0, data: 0 }, sessions: 0, transactions: 0 };
    } else if (msg.cmd === 'accepted') {
      result = arrivals.size;
    } else if (msg.cmd === 'report') {
      result = { arrivals: Object.fromEntries(arrivals), deferredAt: Object.fromEntries(deferredAt), ...stats };
    }
    process.send({ id: msg.id, result });
  });
  server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  // Sessions the worker left open would keep close() waiting; exit anyway.
  process.on('SIGTERM', () => setTimeout(() => process.exit(0), 1000).unref());
}

if (process.argv[2] === '--serve') serve(Number(process.argv[3] ?? 0));
