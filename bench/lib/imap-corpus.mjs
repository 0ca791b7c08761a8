// The messages of the IMAP benchmark, generated deterministically (the same seed gives the same
// bytes), so Mailroom and Dovecot hold exactly the same mail and a search must find the same
// UIDs on both. Each message carries a known share of the search terms:
//   SUBJECT "invoice" in 2 % of subjects, FROM one sender of 200 (0.5 %), BODY "zanzibar" in
//   1 % of bodies, SINCE the last ~10 % of the arrival dates, UNSEEN 10 % of messages.
// Words are made of syllables without b, c or z, so no generated word contains a search term by
// chance.
import { createHash } from 'node:crypto';

/** Mulberry32: a small seeded PRNG, uniform in [0, 1). */
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

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'ta',
  've',
  'so',
  'di',
  'pe',
  'ga',
  'hu',
  'jo',
  'fi',
  'wa',
  'tre',
  'sla',
  'mor',
  'ent',
  'ald',
];
const FIRST = ['Anna', 'Bruno', 'Carol', 'Dmitri', 'Elif', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas'];
const LAST = [
  'Lindqvist',
  'Okafor',
  'Moreau',
  'Tanaka',
  'Kowalski',
  'Silva',
  'Novak',
  'Haddad',
  'Berg',
  'Ruiz',
  'Olsen',
  'Park',
  'Rossi',
  'Weber',
  'Costa',
  'Yilmaz',
  'Dubois',
  'Meyer',
  'Sato',
  'Fischer',
];

export const SEARCH_TERMS = {
  subject: 'invoice',
  /** Sender 37 of 200: "Hiro Tanaka <hiro.tanaka37@sender7.example>". */
  from: 'hiro.tanaka37@',
  body: 'zanzibar',
};
const SENDER_COUNT = 200;
/** The corpus spans one year of arrivals ending here (noon UTC, so no day boundary is near). */
const LAST_ARRIVAL = Date.UTC(2026, 10, 30, 12, 0, 0);
const SPAN_MS = 365 * 86_400_000;

function syllableWord(next) {
  const n = 2 + Math.floor(next() * 2);
  let w = '';
  for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(next() * SYLLABLES.length)];
  return w;
}

/** 4,096 words made once from a fixed seed; a message picks from them (one draw per word). */
const VOCABULARY = (() => {
  const next = rng(4242);
  return Array.from({ length: 4096 }, () => syllableWord(next));
})();

function word(next) {
  return VOCABULARY[Math.floor(next() * VOCABULARY.length)];
}

function sender(i) {
  const first = FIRST[i % FIRST.length];
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length];
  const address = `${first}.${last}${i}@sender${i % 10}.example`.toLowerCase();
  return { name: `${first} ${last}`, address };
}

/** Text of about `bytes` in lines of at most 76 characters; `rare` puts the body term in it. */
function textBody(next, bytes, rare) {
  const lines = [];
  let size = 0;
  let line = '';
  const rareAt = rare ? Math.floor(next() * Math.max(1, bytes / 8)) : -1;
  let words = 0;
  while (size + line.length < bytes) {
    const w = words++ === rareAt ? SEARCH_TERMS.body : word(next);
    if (line.length + w.length + 1 > 76) {
      lines.push(line);
      size += line.length + 2;
      line = '';
    }
    line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join('\r\n');
}

function base64Lines(next, bytes) {
  const raw = Buffer.alloc(Math.ceil((bytes * 3) / 4));
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(next() * 256);
  return raw.toString('base64').replace(/.{76}/g, '$&\r\n');
}

/** Body sizes: 'small' (search mailbox, ~3 KB) or 'mixed' (fetch folder, ~13 KB average). */
function bodySize(next, profile) {
  const r = next();
  if (profile === 'small') return 800 + Math.floor(next() * 4000);
  if (r < 0.75) return 1000 + Math.floor(next() * 7000);
  if (r < 0.95) return 10_000 + Math.floor(next() * 30_000);
  return 100_000;
}

/**
 * Message `i` (0-based) of a corpus of `count`: { raw, size, sha256, subject, from, date,
 * receivedAt, seen, flagged, messageId, hasBodyTerm, searchHeaders, searchBody }. Arrival dates grow with i (uid order = arrival order).
 */
export function corpusMessage(i, count, { seed = 1, profile = 'small', to = 'bench@imap.bench.test' } = {}) {
  const next = rng(seed * 1_000_003 + i);
  const from = sender(Math.floor(next() * SENDER_COUNT));
  const receivedAt = new Date(LAST_ARRIVAL - SPAN_MS + Math.floor(((i + 0.5) / count) * SPAN_MS));
  const date = new Date(receivedAt.getTime() - Math.floor(next() * 600_000));
  const words = Array.from({ length: 3 + Math.floor(next() * 4) }, () => word(next));
  if (next() < 0.02) words.splice(Math.floor(next() * words.length), 0, 'Invoice');
  const subject = `${words.join(' ')} #${i + 1}`;
  const rare = next() < 0.01;
  const seen = next() >= 0.1;
  const flagged = next() < 0.02;
  const messageId = `<${seed}.${i + 1}@corpus.bench.test>`;
  const size = bodySize(next, profile);
  const headers = [
    `Return-Path: <${from.address}>`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `From: ${from.name} <${from.address}>`,
    `To: Bench User <${to}>`,
    `Subject: ${subject}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
  ];
  let body;
  let text;
  if (size >= 100_000) {
    const boundary = `=_bench_${seed}_${i}`;
    headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
    body = [
      `--${boundary}`,
      'Content-Type: text/plain; charset=us-ascii',
      '',
      (text = textBody(next, 2000, rare)),
      `--${boundary}`,
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Disposition: attachment; filename="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(next, size),
      `--${boundary}--`,
    ].join('\r\n');
  } else {
    headers.push('Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit');
    body = text = textBody(next, size, rare);
  }
  const raw = Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}\r\n`);
  return {
    raw,
    size: raw.length,
    sha256: createHash('sha256').update(raw).digest('hex'),
    subject,
    from,
    date,
    receivedAt,
    seen,
    flagged,
    messageId,
    hasBodyTerm: rare,
    // What the worker's parse stores for SEARCH: decoded "Name: value" lines, decoded text parts.
    searchHeaders: headers.join('\n'),
    searchBody: text.replace(/\r\n/g, '\n'), // mailparser's text has bare LF line ends
  };
}

/** The SINCE date (YYYY-MM-DD and IMAP's d-Mon-yyyy) that leaves about the last `share` of a corpus. */
export function sinceDate(share = 0.1) {
  const d = new Date(LAST_ARRIVAL - share * SPAN_MS);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return {
    iso: d.toISOString().slice(0, 10),
    imap: `${d.getUTCDate()}-${months[d.getUTCMonth()]}-${d.getUTCFullYear()}`,
  };
}

/** The IMAP flags of a corpus message, in Mailroom's stored form. */
export function corpusFlags(m) {
  return [...(m.seen ? ['\\Seen'] : []), ...(m.flagged ? ['\\Flagged'] : [])];
}
