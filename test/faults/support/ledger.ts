/**
 * The numbers every fault scenario prints, so a run can be read (and compared between runs)
 * without reading the assertions: what the clients sent, what the platform acknowledged, what
 * the database and the remote sink hold afterwards.
 */
export interface Ledger {
  scenario: string;
  /** Messages or deliveries the scenario started with. */
  sent: number;
  /** Inbound: messages that got 250. Outbound: deliveries the remote answered 250 to. */
  acknowledged: number;
  /** Inbound: distinct messages found in the database (all recipients). Outbound: rows marked delivered. */
  stored: number;
  /** Outbound: distinct deliveries the sink received; inbound: messages stored after the client's retries. */
  delivered: number;
  /** Copies beyond the first (per recipient inbound, per delivery id at the sink). */
  duplicates: number;
  /** Acknowledged (or queued) and not found at the end: must be 0. */
  lost: number;
  /** Scenario-specific counts: replies by class, partial messages, timings. */
  [extra: string]: string | number;
}

/**
 * Prints one line, `[fault-ledger] {...}`, that CI logs keep and a script can grep; the scale
 * suite's scenarios print `[scale-ledger] {...}`.
 */
export function printLedger(ledger: Ledger, tag: 'fault-ledger' | 'scale-ledger' = 'fault-ledger'): void {
  console.log(`[${tag}] ${JSON.stringify(ledger)}`);
}
