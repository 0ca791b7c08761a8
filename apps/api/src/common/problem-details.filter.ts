import { Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { DomainError, RateLimited, ValidationFailed, type DomainErrorKind } from '@mailroom/core';

/** RFC 9457 problem details, plus our correlation id and per-field errors. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  correlationId?: string;
  errors?: { field: string; message: string }[];
}

const STATUS: Record<DomainErrorKind, number> = {
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  limit_exceeded: HttpStatus.CONFLICT,
  validation: HttpStatus.UNPROCESSABLE_ENTITY,
  forbidden: HttpStatus.FORBIDDEN,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  locked: HttpStatus.LOCKED,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

const TITLE: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const problemType = (slug: string): string => `urn:mailroom:problem:${slug}`;

/**
 * The API's one error mapper: domain errors, HTTP exceptions and anything unexpected become
 * `application/problem+json`. Each failure is logged once here, with the request's id.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request & { id?: string }>();
    const res = http.getResponse<Response>();
    const problem = this.toProblem(exception);
    problem.instance = req.originalUrl?.split('?')[0];
    problem.correlationId = req.id === undefined ? undefined : String(req.id);

    if (problem.status >= 500) {
      this.logger.error({ err: exception, reqId: req.id, status: problem.status }, 'request failed');
    } else {
      this.logger.info(
        { reqId: req.id, status: problem.status, type: problem.type, detail: problem.detail },
        'request refused',
      );
    }
    if (exception instanceof RateLimited) res.setHeader('Retry-After', String(exception.retryAfterSeconds));
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof DomainError) {
      const status = STATUS[exception.kind];
      const problem: ProblemDetails = {
        type: problemType(exception.kind.replace(/_/g, '-')),
        title: TITLE[status] ?? 'Error',
        status,
        detail: exception.message,
      };
      if (exception instanceof ValidationFailed) problem.errors = exception.fields;
      return problem;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const detail =
        typeof body === 'string'
          ? body
          : typeof body === 'object' && body !== null && 'message' in body
            ? String((body as { message: unknown }).message)
            : exception.message;
      return {
        type: status === 404 ? problemType('not-found') : 'about:blank',
        title: TITLE[status] ?? 'Error',
        status,
        detail,
      };
    }
    // Body parser errors (malformed JSON, too large) carry a status but are not HttpExceptions.
    const status = (exception as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return {
        type: problemType('malformed-request'),
        title: TITLE[status] ?? 'Bad Request',
        status,
        detail: exception instanceof Error ? exception.message : 'The request could not be read.',
      };
    }
    return {
      type: 'about:blank',
      title: TITLE[500]!,
      status: 500,
      detail: 'An unexpected error occurred. Quote the correlation id when you report it.',
    };
  }
}
