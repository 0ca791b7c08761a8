/**
 * Domain errors. Services throw these; each edge maps them: the API to problem+json, the MTA to
 * SMTP replies with enhanced status codes. Never throw HTTP exceptions from a service.
 */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export type DomainErrorKind =
  | 'not_found'
  | 'conflict'
  | 'limit_exceeded'
  | 'validation'
  | 'forbidden'
  | 'unauthenticated'
  | 'locked'
  | 'rate_limited'
  | 'unavailable';

export interface FieldProblem {
  /** JSON pointer-ish dotted path of the field, e.g. `destinations.0` */
  field: string;
  message: string;
}

export class NotFound extends DomainError {
  readonly kind = 'not_found';
}
export class Conflict extends DomainError {
  readonly kind = 'conflict';
}
export class LimitExceeded extends DomainError {
  readonly kind = 'limit_exceeded';
}
export class Forbidden extends DomainError {
  readonly kind = 'forbidden';
}
export class Unauthenticated extends DomainError {
  readonly kind = 'unauthenticated';
}
/** The target exists but may not change now (a suspended tenant's writes). */
export class Locked extends DomainError {
  readonly kind = 'locked';
}
export class RateLimited extends DomainError {
  readonly kind = 'rate_limited';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, { retryAfterSeconds });
  }
}
/** A dependency (database, Redis) cannot serve the request now; the caller should retry. */
export class Unavailable extends DomainError {
  readonly kind = 'unavailable';
}
export class ValidationFailed extends DomainError {
  readonly kind = 'validation';
  constructor(
    message: string,
    readonly fields: FieldProblem[],
  ) {
    super(message, { fields });
  }
}
