import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readWithPrefix } from './stored-message';
import { messageStream, Spool } from './message-spool';

function message(bodyBytes: number): Buffer {
  const header = 'From: a@b.test\r\nSubject: spool\r\n\r\n';
  const line = 'x'.repeat(76) + '\r\n';
  const body = line.repeat(Math.ceil(bodyBytes / line.length));
  return Buffer.from(header + body);
}

/** The message in chunks of 16 KB, as a client's DATA arrives. */
function chunked(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 16_384) chunks.push(bytes.subarray(i, i + 16_384));
  return Readable.from(chunks, { objectMode: false });
}

describe('Spool', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-spec-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps a message under the threshold in memory and writes no file', async () => {
    const spool = new Spool(dir, 64 * 1024);
    const bytes = message(40 * 1024);
    const m = await spool.receive(chunked(bytes), 10_000_000, 256 * 1024);
    expect(m.path).toBeNull();
    expect(m.bytes?.equals(bytes)).toBe(true);
    expect(m.size).toBe(bytes.length);
    expect(m.header.toString()).toBe('From: a@b.test\r\nSubject: spool\r\n');
    expect(fs.readdirSync(dir)).toEqual([]);
    const stored = await readWithPrefix(m, Buffer.from('X-Trace: 1\r\n'));
    expect(stored.toString()).toBe(`X-Trace: 1\r\n${bytes.toString()}`);
    expect(await text(messageStream(m))).toBe(bytes.toString());
  });

  it('streams a message over the threshold to a file, the same bytes, and removes it', async () => {
    const spool = new Spool(dir, 64 * 1024);
    const bytes = message(300 * 1024);
    const m = await spool.receive(chunked(bytes), 10_000_000, 256 * 1024);
    expect(m.bytes).toBeNull();
    expect(m.path).not.toBeNull();
    expect(fs.readFileSync(m.path!).equals(bytes)).toBe(true);
    const stored = await readWithPrefix(m, Buffer.from('X-Trace: 1\r\n'));
    expect(stored.subarray(12).equals(bytes)).toBe(true);
    expect(await text(messageStream(m))).toBe(bytes.toString());
    await spool.remove(m.path);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('removes the file when the client goes away mid-message', async () => {
    const spool = new Spool(dir, 64 * 1024);
    const input = new PassThrough();
    const received = spool.receive(input, 10_000_000, 256 * 1024);
    input.write(message(200 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 50));
    input.destroy(new Error('client went away'));
    await expect(received).rejects.toThrow('client went away');
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
