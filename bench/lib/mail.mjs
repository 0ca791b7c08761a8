// Test mail for the inbound benchmarks: a sender domain with SPF, DKIM and DMARC records served
// by a local DNS server, and DKIM-signed messages of fixed body sizes.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { root } from './report.mjs';

const require = createRequire(import.meta.url);
const { dkimSign } = require('mailauth');

export const SENDER_DOMAIN = 'sender.bench.test';
export const SELECTOR = 'bench';

export function senderIdentity() {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKey = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // Clients connect from 127.0.0.0/8 (several source addresses), so SPF passes for all of them.
  const zone = `
${SENDER_DOMAIN}. IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc.${SENDER_DOMAIN}. IN TXT "v=DMARC1; p=reject"
${SELECTOR}._domainkey.${SENDER_DOMAIN}. IN TXT "v=DKIM1; k=rsa; p=${publicKey}"
`;
  return { privateKey, zone };
}

/** Starts the repository's dns2 test server (compiled) serving `zone`. */
export async function startDns(zone) {
  const { LocalDnsServer } = require(path.join(root, 'dist/libs/dns/src/testing/local-dns-server.js'));
  return LocalDnsServer.start(zone);
}

// Words for `text` bodies: prose-like lines that compress about as well as real mail text
// (LZ-family compressors find repeats; random base64 has none).
const WORDS = (
  'the of and to a in is that for it as was with be by on not he this are or his from at which ' +
  'but have an they you were her all she there would their we him been has when who will more no ' +
  'if out so said what up its about into than them can only other new some could time these two ' +
  'may then do first any my now such like our over man me even most made after also did many ' +
  'before must through back years where much your way well down should because each just those ' +
  'people how too little state good very make world still own see men work long get here between ' +
  'both life being under never day same another know while last might us great old year off come ' +
  'since against go came right used take three meeting invoice attached please regards thanks ' +
  'tomorrow report project schedule customer order delivery account payment review budget'
).split(' ');

/** `bytes` of body: base64 lines of random bytes (an attachment), or `text` (prose). */
function body(bytes, kind = 'base64', random = Math.random) {
  const lines = [];
  let size = 0;
  while (size < bytes) {
    let line;
    if (kind === 'text') {
      line = '';
      while (line.length < 66) line += (line ? ' ' : '') + WORDS[Math.floor(random() * WORDS.length)];
    } else {
      line = randomBytes(57).toString('base64'); // 76 characters, like a base64 body
    }
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join('\r\n');
}

/**
 * One DKIM-signed (relaxed/relaxed) message with a body of about `bodyBytes`; `kind` is
 * `base64` (random bytes, as attachments are) or `text` (prose).
 */
export async function signedMessage(privateKey, bodyBytes, n, kind = 'base64') {
  const raw = Buffer.from(
    [
      `From: Bench Sender <sender@${SENDER_DOMAIN}>`,
      'To: Bench Recipients <undisclosed-recipients@bench.test>',
      `Subject: bench ${bodyBytes} bytes #${n}`,
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <${randomBytes(8).toString('hex')}@${SENDER_DOMAIN}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      body(bodyBytes, kind, kind === 'text' ? rng(n * 7919 + bodyBytes) : undefined),
      '',
    ].join('\r\n'),
  );
  const signed = await dkimSign(raw, {
    canonicalization: 'relaxed/relaxed',
    signatureData: [{ signingDomain: SENDER_DOMAIN, selector: SELECTOR, privateKey }],
  });
  if (signed.errors.length > 0) throw new Error(`DKIM signing failed: ${signed.errors[0]}`);
  return Buffer.concat([Buffer.from(signed.signatures), raw]);
}

/** A small pool of signed messages per size, reused across the run; `kind` as signedMessage's. */
export async function messagePool(privateKey, sizes, perSize = 20, kind = 'base64') {
  const pool = new Map();
  for (const size of sizes) {
    const list = [];
    for (let i = 0; i < perSize; i++) list.push(await signedMessage(privateKey, size, i, kind));
    pool.set(size, list);
  }
  return pool;
}

/** A deterministic pseudo-random generator (mulberry32), so two runs send the same mix. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` jobs in an even mix of body sizes × recipient counts; recipients are distinct and
 * drawn uniformly from `addresses` (which spread over every seeded tenant).
 */
export function buildJobs({ count, pool, sizes, recipientCounts, addresses, seed = 42 }) {
  const random = rng(seed);
  const jobs = [];
  for (let i = 0; i < count; i++) {
    const size = sizes[i % sizes.length];
    const rcpts = recipientCounts[Math.floor(i / sizes.length) % recipientCounts.length];
    const to = new Set();
    while (to.size < Math.min(rcpts, addresses.length)) to.add(addresses[Math.floor(random() * addresses.length)]);
    const list = pool.get(size);
    jobs.push({ from: `sender@${SENDER_DOMAIN}`, to: [...to], raw: list[i % list.length], size });
  }
  return jobs;
}
