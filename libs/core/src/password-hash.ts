import { availableParallelism } from 'node:os';

/**
 * argon2id parameters for every password hash the platform writes (admin users, mailbox
 * passwords): OWASP's recommendation, m = 19 MiB, t = 2, p = 1. About a tenth of argon2's
 * defaults (m = 64 MiB, t = 3, p = 4) in CPU and memory, so logins scale, while a guess still
 * costs 19 MiB of memory. Hashes written with other parameters still verify (they carry their
 * own) and are rewritten with these on the next good login where the login path supports it
 * (`passwordNeedsRehash`). Pass these options to argon2.hash and to argon2.needsRehash.
 */
export const PASSWORD_HASH_OPTIONS = {
  type: 2, // argon2.argon2id
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * True when a stored hash was not written with PASSWORD_HASH_OPTIONS (another variant, version
 * or cost, or not a PHC string at all): after a good login with it, hash the password again and
 * store the new hash. argon2.needsRehash's test plus the variant, reading the PHC string
 * (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`, parameters in any order) without the native module.
 */
export function passwordNeedsRehash(storedHash: string): boolean {
  const parts = storedHash.split('$');
  if (parts.length !== 6 || parts[1] !== 'argon2id' || parts[2] !== 'v=19') return true;
  const params = new Map((parts[3] ?? '').split(',').map((kv) => kv.split('=') as [string, string]));
  return (
    params.get('m') !== String(PASSWORD_HASH_OPTIONS.memoryCost) ||
    params.get('t') !== String(PASSWORD_HASH_OPTIONS.timeCost) ||
    params.get('p') !== String(PASSWORD_HASH_OPTIONS.parallelism)
  );
}

let running = 0;
const waiting: (() => void)[] = [];

/**
 * Runs one argon2 hash or verify when fewer than `limit` (default: the cores this process may
 * use) are running, else after one ends. Each holds its memory cost (19 MiB, 64 MiB for an old
 * default-parameter hash) for its whole run and is CPU-bound, so more at once than there are
 * cores only adds memory (libuv runs 4 by default: 76 MiB on a 2-core machine), never
 * throughput. FIFO, so a login waits its turn rather than starving.
 */
export async function withPasswordHashSlot<T>(work: () => Promise<T>, limit = passwordHashSlots()): Promise<T> {
  if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

let slots: number | undefined;
function passwordHashSlots(): number {
  slots ??= Math.max(1, availableParallelism());
  return slots;
}
