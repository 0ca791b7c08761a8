import { PayloadTooLargeException } from '@nestjs/common';
import type { Request } from 'express';
import { ValidationFailed } from '@mailroom/core';
import { fieldProblems } from '../common/validation';
import { ImportMailboxesSchema } from './mailbox.dto';

export const MAX_CSV_BYTES = 10 * 1024 * 1024;

/**
 * The CSV of an import: a `text/csv` body read here (the JSON parser's 100 kB limit is far too
 * small for a company), or `application/json` {"csv": "..."} for small files.
 */
export async function readCsvBody(req: Request): Promise<string> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('text/csv') || type.startsWith('text/plain')) {
    // Normally parsed by the text body parser (bootstrap), which also lets Idempotency-Key hash
    // the CSV; the stream is read here only if it was not.
    if (typeof req.body === 'string') return req.body;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_CSV_BYTES) {
        throw new PayloadTooLargeException(`The CSV is larger than ${MAX_CSV_BYTES / 1024 / 1024} MiB; split it.`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  const parsed = ImportMailboxesSchema.safeParse(req.body);
  if (!parsed.success) throw new ValidationFailed('The request has invalid fields.', fieldProblems(parsed.error));
  return parsed.data.csv;
}
