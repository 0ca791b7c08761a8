import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { Config } from '@mailroom/config';
import { Conflict, open, seal, ValidationFailed } from '@mailroom/core';
import type { AuthedRequest } from '../auth/request-context';
import { CONFIG } from '../infra/tokens';
import { IdempotencyRepository } from './idempotency.repository';

const WAIT_FOR_FIRST_MS = 10_000;

type Begin = { kind: 'fresh'; id: string } | { kind: 'replay'; status: number; body: unknown };

/**
 * `Idempotency-Key` on POST: the first request with a key runs; a repeat (same credential, same
 * key) gets the first response back, never a second object. A repeat that arrives while the
 * first still runs waits for it. Reusing a key for a different request is a 422. Failed
 * requests release their key, so the client can retry them.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly keys: IdempotencyRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const header = req.headers['idempotency-key'];
    if (req.method !== 'POST' || header === undefined || !req.principal) return next.handle();
    const key = Array.isArray(header) ? header[0]! : header;
    if (key.length < 1 || key.length > 255) {
      throw new ValidationFailed('The request has invalid fields.', [
        { field: 'Idempotency-Key', message: 'must be 1 to 255 characters' },
      ]);
    }
    const res = context.switchToHttp().getResponse<Response>();
    const scope = `${req.principal.kind}:${req.principal.id}`;
    const path = req.originalUrl.split('?')[0]!;
    const requestHash = createHash('sha256')
      .update(`${req.method} ${path}\n${JSON.stringify(req.body ?? null)}`)
      .digest('hex');
    return from(this.run(scope, key, path, requestHash, res, () => lastValueFrom(next.handle())));
  }

  private async run(
    scope: string,
    key: string,
    path: string,
    requestHash: string,
    res: Response,
    handle: () => Promise<unknown>,
  ) {
    const begun = await this.begin(scope, key, path, requestHash);
    if (begun.kind === 'replay') {
      res.status(begun.status).setHeader('Idempotency-Replayed', 'true');
      return begun.body;
    }
    try {
      const body = await handle();
      // Sealed: a first response may hold a secret shown once (an API key, a webhook secret,
      // a generated password), and no secret is stored in clear.
      await this.keys.saveResponse(
        begun.id,
        res.statusCode,
        seal(this.config.MASTER_KEY, JSON.stringify(body ?? null), `idempotency:${scope}:${key}`),
      );
      return body;
    } catch (err) {
      await this.keys.remove(begun.id).catch(() => undefined);
      throw err;
    }
  }

  private async begin(scope: string, key: string, path: string, requestHash: string): Promise<Begin> {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      const id = await this.keys.claim({
        scope,
        key,
        method: 'POST',
        path,
        requestHash,
        expiresAt: new Date(Date.now() + this.config.IDEMPOTENCY_TTL_HOURS * 3_600_000),
      });
      if (id !== null) return { kind: 'fresh', id };
      // The unique (scope, key) says another request had this key first.
      const existing = await this.keys.find(scope, key);
      if (existing) {
        if (existing.expiresAt <= new Date()) {
          await this.keys.remove(existing.id);
          continue;
        }
        if (existing.requestHash !== requestHash) {
          throw new ValidationFailed('This Idempotency-Key was used for a different request.', [
            { field: 'Idempotency-Key', message: 'already used with another method, path or body; use a new key' },
          ]);
        }
        if (existing.responseStatus !== null) {
          const sealed = existing.responseBody as string;
          const body: unknown = JSON.parse(open(this.config.MASTER_KEY, sealed, `idempotency:${scope}:${key}`));
          return { kind: 'replay', status: existing.responseStatus, body };
        }
      }
      if (Date.now() > deadline) {
        throw new Conflict('A request with this Idempotency-Key is still being processed; retry shortly.');
      }
      await sleep(50);
    }
  }
}
