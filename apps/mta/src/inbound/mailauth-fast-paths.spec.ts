// As in the MTA, auth-check.ts loads the fast paths before anything of mailauth runs.
import { AuthChecker } from './auth-check';
import { createRequire } from 'node:module';
import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';
import { afterEach, describe, expect, it } from 'vitest';

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

/** A parser that records what mailauth's DKIM verifier would get: the header, then body chunks. */
class Recorder extends MessageParser {
  body: Buffer[] = [];
  seen: unknown[] = [];
  async messageHeaders(headers: unknown): Promise<void> {
    this.seen.push(headers);
  }
  async nextChunk(chunk: Buffer): Promise<void> {
    this.body.push(Buffer.from(chunk));
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
const MESSY = [...CLEAN, '  ', '\t', ' \r\n', '\n', '\r', '\r\n\r\n', '\n\n', '\r\n\n', ' \t ', '\r\r\n'];

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
  for (const chunk of chunks) await parser.writeAsync(chunk);
  await parser.finish();
  return {
    header: Buffer.concat(parser.headerChunks).toString('latin1'),
    seen: JSON.stringify(parser.seen),
    body: Buffer.concat(parser.body).toString('latin1'),
    byteLength: parser.byteLength,
    lastByte: parser.lastByte,
    state: parser.state,
  };
}

function relax(chunks: Buffer[], original: boolean, maxBodyLength?: number) {
  const hash = new RelaxedHash('sha256', maxBodyLength);
  if (original) withOriginals(hash, relaxedProto, ['update']);
  for (const chunk of chunks) hash.update(chunk);
  const digest = hash.digest('base64');
  return { digest, byteLength: hash.byteLength, canonical: hash.canonicalizedLength, hashed: hash.bodyHashedBytes };
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

  it('are installed on mailauth’s own classes', () => {
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
  });

  it('take the short way for clean CRLF mail and hand anything else to mailauth', async () => {
    const fallbacks = countFallbacks();
    restore = fallbacks.restore;
    const clean = Buffer.from(`Subject: hi\r\nFrom: a@b.test\r\n\r\n${'some text on a line\r\n'.repeat(500)}`);
    await parse(cut(random(42), clean), false);
    relax(cut(random(43), clean.subarray(clean.indexOf('\r\n\r\n') + 4)), false);
    expect(fallbacks.calls).toEqual({ ensureLinebreaks: 0, processChunk: 0, update: 0 });

    const messy = [Buffer.from('Subject: hi\n\nbody\twith  tabs \r\n')];
    await parse(messy, false);
    relax(messy, false);
    expect(fallbacks.calls.ensureLinebreaks).toBe(1);
    expect(fallbacks.calls.update).toBeGreaterThan(0);
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
      const header = bytes.subarray(0, bytes.indexOf('\r\n\r\n') + 4);
      const checker = new AuthChecker('mx.mailroom.test', dns, 5000);
      const result = await checker.check({
        message: {
          path: null,
          bytes,
          size: bytes.length,
          header,
          headerComplete: true,
          bareLineEnding: false,
          sizeExceeded: false,
        },
        ip: '192.0.2.1',
        helo: 'client.test',
        sender: 'a@sender.test',
      });
      return result.dkim;
    };
    const message = Buffer.concat([Buffer.from(signed.signatures), raw]);
    expect(await verdict(message)).toBe('pass');
    // Relaxed canonicalization ignores how much whitespace there is, not the words.
    const respaced = Buffer.from(message.toString('latin1').replace('Bye', 'Bye   '), 'latin1');
    expect(await verdict(respaced)).toBe('pass');
    const changed = Buffer.from(message.toString('latin1').replace('Bye', 'Bye!'), 'latin1');
    // mailauth reports a body hash that does not match as neutral (RFC 6376 leaves it open).
    expect(await verdict(changed)).toBe('neutral');
  });
});
