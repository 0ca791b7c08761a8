import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, fixtureBytes, sourceOf } from '@mailroom/imap/mime/testing/fixture-source';
import { parseArgs, parseImapText, plain } from '@mailroom/imap/mime/testing/imap-text';
import { parseFetchItems } from './fetch-items';
import { renderFetch } from './fetch-render';

// Expected replies came from Dovecot 2.3.19.1 (see fixtures/dovecot-oracle.mjs), stored as data.
const oracle = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'dovecot-expected.json'), 'latin1')) as {
  fixtures: Record<string, Record<string, string>>;
};

// Dovecot answers BINARY of a multipart or message/rfc822 part by re-encoding every leaf inside;
// we return such parts as stored (RFC 3516 only defines decoding of a leaf's own encoding).
const KNOWN_DIFFERENCES = new Set([
  'nested.eml BINARY.PEEK[1]',
  'nested.eml BINARY.SIZE[1]',
  'nested.eml BINARY.PEEK[2]',
  'nested.eml BINARY.SIZE[2]',
  'digest.eml BINARY.PEEK[1]',
  'digest.eml BINARY.SIZE[1]',
  'digest.eml BINARY.PEEK[2]',
  'digest.eml BINARY.SIZE[2]',
]);

// Dovecot fails BINARY on edge-mime.eml (its strict QP decoder rejects the '=' before a boundary
// and drops the connection); we decode it as a soft break.
const dovecotFails = (file: string, item: string) => file === 'edge-mime.eml' && item.startsWith('BINARY');

const cases = Object.entries(oracle.fixtures).flatMap(([file, items]) =>
  Object.entries(items)
    .filter(([item]) => !KNOWN_DIFFERENCES.has(`${file} ${item}`) && !dovecotFails(file, item))
    .map(([item, reply]) => ({ file, item, reply })),
);

describe('renderFetch against Dovecot 2.3', () => {
  it.each(cases)('$file FETCH ($item) answers as Dovecot does', async ({ file, item, reply }) => {
    const sut = await renderFetch(parseFetchItems(parseArgs(item)), sourceOf(fixtureBytes(file)), {
      uid: false,
      modseq: false,
      utf8: false,
    });
    expect(await plain(sut)).toEqual(parseImapText(reply));
  });
});
