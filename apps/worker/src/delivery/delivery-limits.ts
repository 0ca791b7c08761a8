import type { KeyObject } from 'node:crypto';
import type { ActiveDkimKey } from './delivery.repository';

/**
 * Per-destination concurrency, as Postfix's destination concurrency limit: at most `limit`
 * sessions per domain at once; the others wait their turn in arrival order (no polling).
 */
export class DomainSlots {
  private readonly active = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(private readonly limit: number) {}

  /** Waits for a slot for `domain`; the returned function gives it back (call it once). */
  async acquire(domain: string): Promise<() => void> {
    const entry = this.entry(domain);
    if (entry.running >= this.limit) {
      // The releaser hands its slot straight to the next waiter (running stays the same).
      await new Promise<void>((resolve) => entry.waiting.push(resolve));
    } else {
      entry.running++;
    }
    return this.releaser(domain, entry);
  }

  /** A slot for `domain` if one is free now (nobody waiting), else null. */
  tryAcquire(domain: string): (() => void) | null {
    const entry = this.entry(domain);
    if (entry.running >= this.limit) return null;
    entry.running++;
    return this.releaser(domain, entry);
  }

  private entry(domain: string): { running: number; waiting: (() => void)[] } {
    let entry = this.active.get(domain);
    if (!entry) {
      entry = { running: 0, waiting: [] };
      this.active.set(domain, entry);
    }
    return entry;
  }

  private releaser(domain: string, entry: { running: number; waiting: (() => void)[] }): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = entry.waiting.shift();
      if (next) return next();
      entry.running--;
      if (entry.running === 0) this.active.delete(domain);
    };
  }

  /** Sessions running to `domain` now (tests). */
  running(domain: string): number {
    return this.active.get(domain)?.running ?? 0;
  }
}

/**
 * Decrypted and parsed DKIM private keys, by key id and selector, least recently used dropped
 * beyond `size`. A key is decrypted (MASTER_KEY, AES-256-GCM) and its PEM parsed once per
 * process, not per message; a rotation activates a key with a new id, which is a new entry, and
 * the old one ages out.
 */
export class DkimKeyCache {
  private readonly keys = new Map<string, { sealed: string; key: KeyObject }>();

  constructor(private readonly size: number) {}

  /**
   * The parsed key, opened with `open` unless cached. A hit must also match the sealed key it
   * was opened from: a row with the same id and selector but other key material (another
   * tenant's row with the same id; dkim_keys is keyed by tenant and id) is opened afresh.
   */
  get(key: ActiveDkimKey, open: () => KeyObject): KeyObject {
    const id = `${key.id}/${key.selector}`;
    let entry = this.keys.get(id);
    if (entry === undefined || entry.sealed !== key.privateKeyEncrypted) {
      entry = { sealed: key.privateKeyEncrypted, key: open() };
      this.keys.delete(id);
      if (this.keys.size >= this.size) this.keys.delete(this.keys.keys().next().value!);
    } else {
      this.keys.delete(id);
    }
    this.keys.set(id, entry);
    return entry.key;
  }
}
