// As in the MTA, auth-check.ts loads the fast paths before anything of mailauth runs.
import { AuthChecker } from './auth-check';
import { MAILAUTH_VERSION } from './mailauth-fast-paths';
import { createRequire } from 'node:module';
import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';
import { afterEach, describe, expect, it } from 'vitest';
import { heldMessage } from '@test/support/mail-fixtures';

const load = createRequire(require.resolve('mailauth/lib/dkim/message-parser'));

type Fn = ((...args: never[]) => unknown) & { original?: (...args: never[]) => unknown };

interface ParserLike {
  writeAsync(chunk: Buffer): Promise<void>;
  finish(): Promise<void>;
  headerChunks: Buffer[];
  headers: unknown;
  byteLength: number;
  lastByte?: number;
  state: string;
  stateBytes: number[];
}

interface RelaxedLike {
  update(chunk: Buffer | null, final?: boolean): void;
  digest(encoding: 'base64'): string;
  byteLength: number;
  canonicalizedLength: number;
  bodyHashedBytes: number;
}

const { MessageParser } = load('./message-parser') as {
  MessageParser: new () => ParserLike & { ensureLinebreaks: Fn; processChunk: Fn };
};
const { RelaxedHash } = load('./body/relaxed') as {
  RelaxedHash: new (algorithm: string, maxBodyLength?: number) => RelaxedLike & { update: Fn };
};

const parserProto = MessageParser.prototype as unknown as Record<'ensureLinebreaks' | 'processChunk', Fn>;
const relaxedProto = RelaxedHash.prototype as unknown as Record<'update', Fn>;

/** A parser that records, in order, what mailauth's DKIM verifier would get: the header, then body chunks. */
class Recorder extends MessageParser {
  events: string[] = [];
  async messageHeaders(headers: unknown): Promise<void> {
    this.events.push(`headers ${JSON.stringify(headers)}`);
  }
  async nextChunk(chunk: Buffer): Promise<void> {
    this.events.push(`body ${chunk.toString('latin1')}`);
  }
}

/** A small deterministic generator, so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const CLEAN = ['word', 'x', 'Subject: hi', ' ', '\r\n', 'a longer run of text ', '=20', ':'];
const MESSY = [
  ...CLEAN,
  '  ',
  '\t',
  ' \r\n',
  '\n',
  '\r',
  '\r\n\r\n',
  '\n\n',
  '\r\n\n',
  ' \t ',
  '\r\r\n',
  '\u00e9\u0000',
];

function message(next: () => number, pieces: string[], length: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const piece = pieces[Math.floor(next() * pieces.length)]!;
    parts.push(piece);
    size += piece.length;
  }
  return Buffer.from(parts.join(''), 'latin1');
}

/**
 * Lines as encoded parts have them (base64's alphabet, CRLF, now and then an empty line), with a
 * space, tab or other whitespace now and then: the short way and mailauth's take turns by chunk.
 */
function mostlyEncoded(next: () => number, length: number, dirty = 0.05): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
  const extra = MESSY.slice(CLEAN.length);
  const lines: string[] = [];
  let size = 0;
  while (size < length) {
    let line = Array.from({ length: Math.floor(next() * 77) }, () => alphabet[Math.floor(next() * 64)]).join('');
    if (next() < dirty) line += extra[Math.floor(next() * extra.length)]!;
    lines.push(line);
    size += line.length + 2;
  }
  return Buffer.from(lines.join('\r\n') + (next() < 0.5 ? '\r\n' : ''), 'latin1');
}

function cut(next: () => number, bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(next() * (next() < 0.3 ? 8 : 3000));
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function withOriginals<T extends object>(target: T, proto: Record<string, Fn>, names: string[]): T {
  for (const name of names) Object.defineProperty(target, name, { value: proto[name]!.original });
  return target;
}

async function parse(chunks: Buffer[], original: boolean) {
  const parser = new Recorder();
  if (original) withOriginals(parser, parserProto, ['ensureLinebreaks', 'processChunk']);
  const states: string[] = [];
  for (const chunk of chunks) {
    await parser.writeAsync(chunk);
    // What mailauth's scan carries to the next chunk, while it still looks for the header's end.
    states.push(`${parser.state} ${parser.state === 'header' ? parser.stateBytes.join(',') : ''} ${parser.lastByte}`);
  }
  await parser.finish();
  return {
    events: parser.events,
    states,
    header: Buffer.concat(parser.headerChunks).toString('latin1'),
    byteLength: parser.byteLength,
  };
}

function relax(chunks: Buffer[], original: boolean, maxBodyLength?: number) {
  const hash = new RelaxedHash('sha256', maxBodyLength) as RelaxedLike & {
    _pushBodyHash(chunk: Buffer): void;
    remainder: Buffer | false;
    update: Fn;
  };
  if (original) withOriginals(hash, relaxedProto, ['update']);
  // Every piece handed to the hash, in order, and what is kept between chunks.
  const pushed: string[] = [];
  const push = hash._pushBodyHash.bind(hash);
  hash._pushBodyHash = (chunk: Buffer) => {
    pushed.push(Buffer.from(chunk).toString('latin1'));
    push(chunk);
  };
  const kept: string[] = [];
  for (const chunk of chunks) {
    hash.update(chunk);
    kept.push(hash.remainder ? hash.remainder.toString('latin1') : '-');
  }
  const digest = hash.digest('base64');
  return {
    digest,
    pushed,
    kept,
    byteLength: hash.byteLength,
    canonical: hash.canonicalizedLength,
    hashed: hash.bodyHashedBytes,
  };
}

/** Counts the calls that fall back to mailauth's own code. */
function countFallbacks(): { calls: Record<string, number>; restore: () => void } {
  const calls: Record<string, number> = { ensureLinebreaks: 0, processChunk: 0, update: 0 };
  const saved: Array<() => void> = [];
  for (const [proto, name] of [
    [parserProto, 'ensureLinebreaks'],
    [parserProto, 'processChunk'],
    [relaxedProto, 'update'],
  ] as const) {
    const fast = (proto as Record<string, Fn>)[name]!;
    const original = fast.original!;
    fast.original = function (this: unknown, ...args: never[]) {
      // The digest's last update (final) is always mailauth's: it ends the last line.
      if (name !== 'update' || !args[1]) calls[name]!++;
      return original.apply(this, args);
    };
    saved.push(() => (fast.original = original));
  }
  return { calls, restore: () => saved.forEach((undo) => undo()) };
}

describe('mailauth fast paths', () => {
  let restore: (() => void) | null = null;
  afterEach(() => {
    restore?.();
    restore = null;
  });

  it('are installed on mailauth’s own classes, over the version they were checked against', () => {
    expect((load('../../package.json') as { version: string }).version).toBe(MAILAUTH_VERSION);
    expect(parserProto.ensureLinebreaks.original).toBeTypeOf('function');
    expect(parserProto.processChunk.original).toBeTypeOf('function');
    expect(relaxedProto.update.original).toBeTypeOf('function');
  });

  it('split header and body exactly as mailauth does, for any bytes cut anywhere', async () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed);
      const bytes = message(next, next() < 0.5 ? CLEAN : MESSY, 1 + Math.floor(next() * 9000));
      const chunks = cut(next, bytes);
      expect(await parse(chunks, false), `seed ${seed}`).toEqual(await parse(chunks, true));
    }
    // The blank line split between chunks: every cut of short messages, and one byte at a time.
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed * 31);
      const bytes = message(next, MESSY, 60);
      for (let at = 1; at < bytes.length; at++) {
        const chunks = [bytes.subarray(0, at), bytes.subarray(at)];
        expect(await parse(chunks, false), `seed ${seed} cut at ${at}`).toEqual(await parse(chunks, true));
      }
      const bytewise = [...bytes].map((b) => Buffer.from([b]));
      expect(await parse(bytewise, false), `seed ${seed} bytewise`).toEqual(await parse(bytewise, true));
    }
  });

  it('hash a relaxed body exactly as mailauth does, with and without l=', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed * 7919);
      const bytes = message(next, next() < 0.5 ? CLEAN : MESSY, Math.floor(next() * 12000));
      const chunks = cut(next, bytes);
      const limit = next() < 0.3 ? Math.floor(next() * bytes.length) : undefined;
      expect(relax(chunks, false, limit), `seed ${seed}`).toEqual(relax(chunks, true, limit));
    }
    // Encoded parts: the short way and mailauth's take turns across chunks.
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed * 104729);
      const bytes = mostlyEncoded(next, Math.floor(next() * 20000), next() < 0.5 ? 0.002 : 0.05);
      const chunks = next() < 0.3 ? [bytes] : cut(next, bytes);
      expect(relax(chunks, false), `seed ${seed}`).toEqual(relax(chunks, true));
    }
  });

  it('hash the edge cases as mailauth does', () => {
    const cases: string[][] = [
      ['a\r\n', '\nb'],
      ['\n'],
      ['x\r', '\n\n'],
      ['x \r', '\n'],
      [' ', ' y\r\n'],
      ['a\tb\r\n', '\r\n', 'c\r\n'],
      ['a\r\n\r\n\r\nb\r\n'],
      ['one two\r\nthree  four\r\nfive\r\nsix \r\nseven\tx\r\neight'],
      ['-- \r\nsig\r\n'],
      ['\u00e9\u0000 x\r\n', '\u00ff\r\n'],
      [''],
    ];
    for (const pieces of cases) {
      const chunks = pieces.map((p) => Buffer.from(p, 'latin1'));
      expect(relax(chunks, false), JSON.stringify(pieces)).toEqual(relax(chunks, true));
      const whole = Buffer.concat(chunks);
      for (const limit of [0, 1, 3, whole.length, whole.length + 5]) {
        expect(relax(chunks, false, limit), `${JSON.stringify(pieces)} l=${limit}`).toEqual(relax(chunks, true, limit));
      }
      // Every cut of it, too.
      for (let at = 1; at < whole.length; at++) {
        const two = [whole.subarray(0, at), whole.subarray(at)];
        expect(relax(two, false), `${JSON.stringify(pieces)} cut at ${at}`).toEqual(relax(two, true));
      }
    }
  });

  it('split the edge cases as mailauth does', async () => {
    const cases: string[][] = [
      ['Subject: a\r\n\r\n', ''],
      ['Subject: a\r\n\r\n', '', 'body\r\n'],
      ['Subject: no blank line\r\nX: y\r\n'],
      ['\r\nbody first\r\n'],
      ['S: a\r\n\r', '\nbody'],
      ['S: a\r\n', '\r\n'],
      ['S: a\n', '\n', 'b'],
    ];
    for (const pieces of cases) {
      const chunks = pieces.map((p) => Buffer.from(p, 'latin1'));
      expect(await parse(chunks, false), JSON.stringify(pieces)).toEqual(await parse(chunks, true));
    }
  });

  it('take the short way for clean CRLF mail and hand anything else to mailauth', async () => {
    const fallbacks = countFallbacks();
    restore = fallbacks.restore;
    // Parsing: any CRLF mail. Relaxed hashing: chunks with nothing to relax (no space or tab).
    const prose = Buffer.from(`Subject: hi\r\nFrom: a@b.test\r\n\r\n${'some text on a line\r\n'.repeat(500)}`);
    await parse(cut(random(42), prose), false);
    const encoded = Buffer.from(`${'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n'.repeat(500)}`);
    relax(cut(random(43), encoded), false);
    expect(fallbacks.calls).toEqual({ ensureLinebreaks: 0, processChunk: 0, update: 0 });

    // Prose goes to mailauth's loop, which reads it faster than a search for each pattern would.
    relax([prose], false);
    expect(fallbacks.calls.update).toBe(1);
    fallbacks.calls.update = 0;

    const messy = [Buffer.from('Subject: hi\n\nbody\twith  tabs \r\n')];
    await parse(messy, false);
    relax(messy, false);
    expect(fallbacks.calls.ensureLinebreaks).toBe(1);
    expect(fallbacks.calls.update).toBe(1);
  });

  it('leave DKIM verdicts as they were: pass for a signed message, fail once its body changes', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'der' },
    });
    const der = publicKey.toString('base64');
    const body = `${'Hello  there,\t\r\nsecond line \r\n\r\n'.repeat(200)}Bye\r\n`;
    const raw = Buffer.from(`From: a@sender.test\r\nTo: b@acme.test\r\nSubject: hi\r\n\r\n${body}`);
    // mailauth's typings name the single-signature options; the code reads signatureData.
    const options = {
      canonicalization: 'relaxed/relaxed',
      signatureData: [{ signingDomain: 'sender.test', selector: 's1', privateKey }],
    } as unknown as Parameters<typeof dkimSign>[1];
    const signed = await dkimSign(raw, options);
    const dns = (name: string, rrtype: string): Promise<string[][]> =>
      name === 's1._domainkey.sender.test' && rrtype === 'TXT'
        ? Promise.resolve([[`v=DKIM1; k=rsa; p=${der}`]])
        : Promise.reject(Object.assign(new Error(`no ${rrtype} for ${name}`), { code: 'ENOTFOUND' }));
    const verdict = async (bytes: Buffer) => {
      const checker = new AuthChecker('mx.mailroom.test', dns, 5000);
      const result = await checker.check({
        message: heldMessage(bytes),
        ip: '192.0.2.1',
        helo: 'client.test',
        sender: 'a@sender.test',
      });
      return result.dkim;
    };
    const message = Buffer.concat([Buffer.from(signed.signatures), raw]);
    expect(await verdict(message)).toBe('pass');
    // The signer hashed with the same code: its bh= must be what mailauth's own code computes.
    const bh = /bh=([^;]+);/.exec(signed.signatures.replace(/\s+/g, ''))![1];
    const bodyChunks = cut(random(7), Buffer.from(body));
    expect(relax(bodyChunks, true).digest).toBe(bh);
    expect(relax(bodyChunks, false).digest).toBe(bh);
    // Relaxed canonicalization ignores how much whitespace there is, not the words.
    const respaced = Buffer.from(message.toString('latin1').replace('Bye', 'Bye   '), 'latin1');
    expect(await verdict(respaced)).toBe('pass');
    const changed = Buffer.from(message.toString('latin1').replace('Bye', 'Bye!'), 'latin1');
    // mailauth reports a body hash that does not match as neutral (RFC 6376 leaves it open).
    expect(await verdict(changed)).toBe('neutral');
  });
});
