import { randomInt } from 'node:crypto';

export const MIN_MAILBOX_PASSWORD = 12;
export const MAX_MAILBOX_PASSWORD = 256;

// Bases of the most used passwords in public breach lists; a password that is one of these
// with digits or symbols around it ("Password2024!") is refused whatever its length.
const COMMON_BASES = new Set([
  'password',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword',
  'qwerty',
  'qwertyuiop',
  'qwertz',
  'azerty',
  'asdfgh',
  'asdfghjkl',
  'zxcvbnm',
  'letmein',
  'welcome',
  'admin',
  'administrator',
  'iloveyou',
  'monkey',
  'dragon',
  'sunshine',
  'football',
  'baseball',
  'princess',
  'changeme',
  'trustno1',
  'master',
  'secret',
  'abc',
  'abcdef',
  'abcdefgh',
  'login',
  'mailbox',
  'email',
  'summer',
  'winter',
  'spring',
  'autumn',
]);

const SEQUENCES = ['0123456789012345678901234567890', 'abcdefghijklmnopqrstuvwxyz', 'qwertyuiopasdfghjklzxcvbnm'];

/**
 * Why a mailbox password is too weak, or null. The rules: at least 12 characters (NIST SP
 * 800-63B favours length over composition rules), at most 256, at least 5 different
 * characters, not a common password with digits or symbols around it, not a run of the
 * keyboard or the alphabet, and not containing the mailbox's local part (the first thing an
 * attacker who knows the address tries).
 */
export function passwordProblem(password: string, localPart: string): string | null {
  if (password.length < MIN_MAILBOX_PASSWORD) return `must be at least ${MIN_MAILBOX_PASSWORD} characters`;
  if (password.length > MAX_MAILBOX_PASSWORD) return `must be at most ${MAX_MAILBOX_PASSWORD} characters`;
  const lower = password.toLowerCase();
  if (new Set(lower).size < 5) return 'must contain at least 5 different characters';
  const base = lower.replace(/^[^a-z@]+|[^a-z]+$/g, '');
  if (COMMON_BASES.has(base) || COMMON_BASES.has(lower)) return 'is a commonly used password; choose another';
  if (SEQUENCES.some((s) => (s + s).includes(lower))) return 'is a keyboard or alphabet sequence; choose another';
  const local = localPart.toLowerCase();
  if (local.length >= 3 && lower.includes(local)) return 'must not contain the mailbox name';
  return null;
}

// No 0/O, 1/l/I: a generated password is often read aloud or copied from a screen.
const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random password of 20 characters from 57 symbols (about 116 bits). */
export function generatePassword(): string {
  let out = '';
  while (out.length < 20) out += ALPHABET[randomInt(ALPHABET.length)];
  return passwordProblem(out, '') === null ? out : generatePassword();
}
