import { createRequire } from 'node:module';

const CR = 0x0d;
const LF = 0x0a;
const TAB = 0x09;
const SPACE = 0x20;

/** The state mailauth's MessageParser (lib/dkim/message-parser.js) keeps per message. */
interface ParserState {
  state: 'header' | 'body';
  stateBytes: number[];
  headerChunks: Buffer[];
  headers: unknown;
  lastByte?: number;
  messageHeaders(headers: unknown): Promise<void>;
  nextChunk(chunk: Buffer): Promise<void>;
}

type EnsureLinebreaks = (this: ParserState, input: Buffer) => Generator<Buffer>;
type ProcessChunk = (this: ParserState, chunk: Buffer) => Promise<void>;
type ParserProto = { ensureLinebreaks: EnsureLinebreaks; processChunk: ProcessChunk };

/** The state of mailauth's relaxed body hash (lib/dkim/body/relaxed.js). */
interface RelaxedState {
  byteLength: number;
  maxSizeReached: boolean;
  remainder: Buffer | false;
  _pushBodyHash(chunk: Buffer): void;
}

type RelaxedUpdate = (this: RelaxedState, chunk: Buffer | null, final?: boolean) => void;
type RelaxedProto = { update: RelaxedUpdate };

type Patched<F> = F & { original?: F };

/** The mailauth whose internals these replace, line for line; any other version is left alone. */
export const MAILAUTH_VERSION = '4.13.3';

/**
 * mailauth 4 (the last major that runs on Node 20) walks every byte of a message three times in
 * JavaScript before the hashes see it: MessageParser rewrites bare LFs (ensureLinebreaks) and
 * looks for the end of the header one byte at a time, keeping the last four bytes in an array it
 * slices at every byte (processChunk), and the relaxed body canonicalization tests each byte for a
 * line that needs rewriting (RelaxedHash.update). Together they were 9-10% of the MTA's profile.
 *
 * The replacements find the same things with Buffer.indexOf (native):
 * - ensureLinebreaks passes a chunk on as it is when every LF follows a CR, else it is mailauth's;
 * - processChunk finds the header's end from the LFs, with the last bytes of earlier chunks
 *   (stateBytes, left as it was once the header has ended: nothing reads it after);
 * - RelaxedHash.update hashes a chunk with no space, tab or bare LF (nothing to relax) as mailauth
 *   would, its complete lines at once; any other chunk is mailauth's.
 * So the bytes hashed, and the verdicts, are mailauth's (mailauth-fast-paths.spec.ts compares
 * both, the pieces hashed and the state kept between chunks included, on random messages cut at
 * random places). They are installed only over mailauth 4.13.3, whose code they were checked
 * against; another version keeps its own code until they are checked against it.
 */
export function useMailauthFastPaths(): void {
  const version = (createRequire(require.resolve('mailauth'))('../package.json') as { version: string }).version;
  if (version !== MAILAUTH_VERSION) return;
  const load = createRequire(require.resolve('mailauth/lib/dkim/message-parser'));
  const parser = (load('./message-parser') as { MessageParser: { prototype: ParserProto } }).MessageParser.prototype;
  const relaxed = (load('./body/relaxed') as { RelaxedHash: { prototype: RelaxedProto } }).RelaxedHash.prototype;
  const { parseHeaders } = load('../tools') as { parseHeaders: (header: Buffer) => unknown };

  if (!(parser.ensureLinebreaks as Patched<EnsureLinebreaks>).original) {
    const fast: Patched<EnsureLinebreaks> = function* (this: ParserState, input: Buffer) {
      // Every LF already follows a CR (the first one may follow the previous chunk's last byte):
      // mailauth would yield the chunk as it is.
      for (let i = input.indexOf(LF); i !== -1; i = input.indexOf(LF, i + 1)) {
        if ((i > 0 ? input[i - 1] : this.lastByte) !== CR) {
          yield* fast.original!.call(this, input);
          return;
        }
      }
      // mailauth's lastByte is the last byte that is not an LF.
      let last = input.length - 1;
      while (last >= 0 && input[last] === LF) last--;
      if (last >= 0) this.lastByte = input[last];
      yield input;
    };
    fast.original = parser.ensureLinebreaks;
    parser.ensureLinebreaks = fast;
  }

  if (!(parser.processChunk as Patched<ProcessChunk>).original) {
    const fast: Patched<ProcessChunk> = async function (this: ParserState, chunk: Buffer) {
      if (!chunk || !chunk.length) return;
      // In the body mailauth hands every chunk on as it is.
      if (this.state !== 'header') return this.nextChunk(chunk);
      const end = headerEnd(this.stateBytes, chunk);
      if (end === -1) {
        // mailauth keeps the last four bytes it saw for the next chunk.
        this.stateBytes = lastFour(this.stateBytes, chunk);
        this.headerChunks.push(chunk);
        return;
      }
      this.state = 'body';
      this.headerChunks.push(end === chunk.length - 1 ? chunk : chunk.subarray(0, end + 1));
      this.headers = parseHeaders(Buffer.concat(this.headerChunks));
      await this.messageHeaders(this.headers);
      if (end < chunk.length - 1) await this.nextChunk(chunk.subarray(end + 1));
    };
    fast.original = parser.processChunk;
    parser.processChunk = fast;
  }

  if (!(relaxed.update as Patched<RelaxedUpdate>).original) {
    const fast: Patched<RelaxedUpdate> = function (this: RelaxedState, chunk: Buffer | null, final?: boolean) {
      const original = fast.original!;
      if (final || !Buffer.isBuffer(chunk) || !chunk.length || this.maxSizeReached) {
        return original.call(this, chunk, final);
      }
      const data = this.remainder && this.remainder.length ? Buffer.concat([this.remainder, chunk]) : chunk;
      // Only where relaxing has nothing to do: no space or tab at all (base64 and quoted-printable
      // parts, the bulk of most mail's bytes) and no bare LF. Prose has a space every few bytes,
      // and mailauth's loop reads it faster than a search for each pattern would.
      if (data.indexOf(SPACE) !== -1 || data.indexOf(TAB) !== -1 || hasBareLf(data)) {
        return original.call(this, chunk, final);
      }
      this.byteLength += chunk.length;
      this.remainder = false;
      // mailauth hashes the complete lines and keeps the rest for the next chunk.
      const lineEnd = data.lastIndexOf(LF);
      if (lineEnd > 0) this._pushBodyHash(data.subarray(0, lineEnd + 1));
      if (lineEnd + 1 < data.length) this.remainder = data.subarray(lineEnd + 1);
    };
    fast.original = relaxed.update;
    relaxed.update = fast;
  }
}

/** An LF that does not follow a CR (mailauth relaxes it, and an LF at the start, to CRLF). */
function hasBareLf(data: Buffer): boolean {
  for (let i = data.indexOf(LF); i !== -1; i = data.indexOf(LF, i + 1)) {
    if (i === 0 || data[i - 1] !== CR) return true;
  }
  return false;
}

/** The byte `back` places before `chunk[i]`, from the chunk or the bytes kept before it. */
function byteBefore(kept: number[], chunk: Buffer, i: number, back: number): number | undefined {
  const at = i - back;
  return at >= 0 ? chunk[at] : kept[kept.length + at];
}

/**
 * Where mailauth's header scan stops: the first LF that follows an LF, or a CR that follows an
 * LF (the blank line), counting the bytes kept from earlier chunks; -1 when there is none.
 */
function headerEnd(kept: number[], chunk: Buffer): number {
  for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
    const b1 = byteBefore(kept, chunk, i, 1);
    if (b1 === LF || (b1 === CR && byteBefore(kept, chunk, i, 2) === LF)) return i;
  }
  return -1;
}

function lastFour(kept: number[], chunk: Buffer): number[] {
  if (chunk.length >= 4) return Array.from(chunk.subarray(chunk.length - 4));
  return [...kept, ...chunk].slice(-4);
}

useMailauthFastPaths();
