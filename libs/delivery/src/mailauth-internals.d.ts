// The parts of mailauth's DKIM signer that signDkim builds on (mailauth ships no types for them).
declare module 'mailauth/lib/dkim/dkim-signer' {
  import type { Writable } from 'node:stream';

  export class DkimSigner extends Writable {
    constructor(options: Record<string, unknown>);
    headers: { parsed: unknown[] } | undefined;
    headerList: string | undefined;
    signTime: Date | undefined;
    bodyHashes: Map<string, { hash: string | null }>;
    signatureHeaders: string[];
    errors: unknown[];
    finalize(): Promise<void>;
  }
}

declare module 'mailauth/lib/dkim/header' {
  export function generateCanonicalizedHeader(
    type: 'DKIM',
    signingHeaderLines: unknown,
    options: Record<string, unknown>,
  ): { canonicalizedHeader: Buffer; dkimHeaderOpts: Record<string, unknown> };
}

declare module 'mailauth/lib/tools' {
  export function getSigningHeaderLines(parsedHeaders: unknown[], fieldNames?: string): unknown;
  export function formatSignatureHeaderLine(type: 'DKIM', values: Record<string, unknown>, folded: boolean): string;
  export function writeToStream(stream: NodeJS.WritableStream, input: Buffer): Promise<void>;
}
