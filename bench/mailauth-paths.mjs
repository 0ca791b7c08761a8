// mailauth's byte loops against the MTA's fast paths (apps/mta/src/inbound/mailauth-fast-paths.ts),
// in this process, on one message at a time: MessageParser (bare LFs and the header's end) and the
// relaxed body hash, each with mailauth's own methods and with the replacements, for a prose body
// and a base64 body of about 30 KB.
//
//   npm run build && node bench/mailauth-paths.mjs [--messages 5000]
//
// CPU is this process's (process.cpuUsage) per message, after 2,000 untimed messages of the same
// kind; each row runs in its own child process, so one row's JIT state does not carry into the next.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fmt, log, machineLine, markdownTable, parseFlags, root } from './lib/report.mjs';

const flags = parseFlags(process.argv.slice(2));
const MESSAGES = Number(flags.messages ?? 5000);

if (flags.child) {
  const require = createRequire(import.meta.url);
  require(path.join(root, 'dist/apps/mta/src/inbound/mailauth-fast-paths.js'));
  const { MessageParser } = require('mailauth/lib/dkim/message-parser');
  const { RelaxedHash } = require('mailauth/lib/dkim/body/relaxed');
  const [what, kind, which] = String(flags.child).split(',');
  const words = 'the of and to a in is that for it as was with be by on not this are or from at which'.split(' ');
  let k = 0;
  const prose = () => {
    const lines = [];
    for (let size = 0; size < 30_000;) {
      let line = '';
      while (line.length < 66) line += (line ? ' ' : '') + words[(k++ * 7) % words.length];
      lines.push(line);
      size += line.length + 2;
    }
    return `${lines.join('\r\n')}\r\n`;
  };
  const base64 = () => `${randomBytes(22_000).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`;
  const body = Buffer.from(kind === 'prose' ? prose() : base64());
  const header =
    'From: a@b.test\r\nTo: c@d.test\r\nSubject: hello there\r\nDKIM-Signature: v=1; a=rsa-sha256; ' +
    `c=relaxed/relaxed; d=b.test; s=s1; h=from:to:subject; bh=${'A'.repeat(44)}; b=${'B'.repeat(344)}\r\n\r\n`;
  const message = Buffer.concat([Buffer.from(header), body]);
  const pick = (fn) => (which === 'mailauth' ? fn.original : fn);
  class Parser extends MessageParser {
    async messageHeaders() {}
    async nextChunk() {}
  }
  Parser.prototype.ensureLinebreaks = pick(MessageParser.prototype.ensureLinebreaks);
  Parser.prototype.processChunk = pick(MessageParser.prototype.processChunk);
  const update = pick(RelaxedHash.prototype.update);
  const once = async () => {
    if (what === 'parser') {
      const parser = new Parser();
      await parser.writeAsync(message);
      await parser.finish();
    } else {
      const hash = new RelaxedHash('sha256', '');
      update.call(hash, body);
      hash.digest('base64');
    }
  };
  for (let i = 0; i < 2000; i++) await once();
  const start = process.cpuUsage();
  for (let i = 0; i < MESSAGES; i++) await once();
  const used = process.cpuUsage(start);
  process.stdout.write(JSON.stringify({ us: (used.user + used.system) / MESSAGES }));
} else {
  const rows = [];
  for (const what of ['parser', 'relaxed']) {
    for (const kind of ['prose', 'base64']) {
      const us = {};
      for (const which of ['mailauth', 'fast']) {
        const child = spawnSync(
          process.execPath,
          [new URL(import.meta.url).pathname, '--child', `${what},${kind},${which}`, '--messages', String(MESSAGES)],
          { cwd: root, encoding: 'utf8' },
        );
        if (child.status !== 0) throw new Error(child.stderr || `child exited ${child.status}`);
        us[which] = JSON.parse(child.stdout).us;
      }
      log(`${what}, ${kind}: mailauth ${fmt(us.mailauth, 1)} µs, fast ${fmt(us.fast, 1)} µs`);
      rows.push([
        what === 'parser' ? 'MessageParser (bare LFs, header end)' : 'relaxed body hash (incl. SHA-256)',
        kind === 'prose' ? 'prose, ~30 KB' : 'base64, ~30 KB',
        fmt(us.mailauth, 1),
        fmt(us.fast, 1),
        `${fmt(us.mailauth / us.fast, 2)}×`,
      ]);
    }
  }
  console.log(`\n${machineLine()}. ${MESSAGES} messages per row, after 2,000 untimed.\n`);
  console.log(
    markdownTable(['what', 'body', 'mailauth 4.13.3 µs/message', 'fast path µs/message', 'mailauth ÷ fast'], rows),
  );
}
