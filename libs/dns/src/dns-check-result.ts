import type { DkimKeyStatus, DnsRecord, DnsRecordType } from './dns-plan';
import { couldNotCheck } from './dns-resolver';

/** The outcome of checking one plan record, stored in `dns_checks`. */
export interface DnsCheckResult {
  key: string;
  type: DnsRecordType;
  name: string;
  /** `error` means "could not check" (timeout, SERVFAIL): never read it as missing. */
  status: 'ok' | 'missing' | 'mismatch' | 'error';
  expected: string;
  /** What the resolver returned, in presentation form (`10 mx.example.com`, TXT text). */
  found: string[];
  /** One or two sentences for the tenant. */
  message: string;
  required: boolean;
  keyStatus?: DkimKeyStatus;
}

/** What one record check decides; {@link DnsCheckResult} adds the record's identity. */
export type CheckOutcome = Pick<DnsCheckResult, 'status' | 'found' | 'message'>;

export const ok = (found: string[], message: string): CheckOutcome => ({ status: 'ok', found, message });
export const missing = (message: string): CheckOutcome => ({ status: 'missing', found: [], message });
export const mismatch = (found: string[], message: string): CheckOutcome => ({ status: 'mismatch', found, message });
export const failed = (record: DnsRecord, code: string, found: string[] = []): CheckOutcome => ({
  status: 'error',
  found,
  message: couldNotCheck(record.name, record.type, code),
});
