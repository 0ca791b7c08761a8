import { createApiClient, type ApiClient, type ApiSchema, type ProblemDetails } from '@mailroom/api-client';

export type Me = ApiSchema<'MeResponse'>;
type TokenPair = ApiSchema<'TokenPairResponse'>;

/** `next`: signed in (`done`), a code must follow (`mfa`), or 2FA must be set up first (`enrol`). */
export type LoginOutcome =
  | { ok: true; next: 'done' | 'mfa' | 'enrol' }
  | { ok: false; kind: 'wrong' }
  /** The device refused or the user cancelled the passkey prompt (nothing reached the API). */
  | { ok: false; kind: 'passkeyCancelled' }
  | { ok: false; kind: 'tooMany'; retryAfter: number }
  | { ok: false; kind: 'server'; status: number; reference?: string }
  | { ok: false; kind: 'network' };

/**
 * The signed-in admin's tokens, in memory only (never in storage a script could read later):
 * a reload signs out. Every call of `client` carries the access token; a 401 spends the refresh
 * token once (one refresh at a time, however many calls fail together) and repeats the call;
 * when the refresh is refused too, the session has expired and `onExpired` tells the page.
 */
export class AuthSession {
  readonly client: ApiClient;
  private readonly anonymous: ApiClient;
  private access: string | null = null;
  private refreshToken: string | null = null;
  private mfaToken: string | null = null;
  /** The second factors the pending sign-in accepts (`mfa_required`'s `methods`). */
  mfaMethods: string[] = [];
  /** Signed in with an enrolment-only token: only the two-factor enrolment routes answer. */
  enrolmentOnly = false;
  private refreshing: Promise<boolean> | null = null;
  private expiredListener: () => void = () => undefined;

  constructor(baseUrl: string) {
    this.anonymous = createApiClient(baseUrl);
    this.client = createApiClient(baseUrl, undefined, { fetch: (request) => this.send(request) });
  }

  get signedIn(): boolean {
    return this.access !== null;
  }

  onExpired(listener: () => void): void {
    this.expiredListener = listener;
  }

  async login(email: string, password: string): Promise<LoginOutcome> {
    try {
      const { data, response } = await this.anonymous.POST('/v1/auth/login', { body: { email, password } });
      if (!data) return failure(response);
      this.forget();
      if (data.status === 'mfa_required') {
        this.mfaToken = data.mfaToken;
        this.mfaMethods = [...data.methods];
        return { ok: true, next: 'mfa' };
      }
      if (data.status === 'mfa_enrolment_required') {
        this.access = data.enrolmentToken;
        this.enrolmentOnly = true;
        return { ok: true, next: 'enrol' };
      }
      this.keep(data);
      return { ok: true, next: 'done' };
    } catch {
      return { ok: false, kind: 'network' };
    }
  }

  /** The second step of a sign-in that answered `mfa`: a TOTP code or a recovery code. */
  async completeMfa(code: string): Promise<LoginOutcome> {
    if (!this.mfaToken) return { ok: false, kind: 'wrong' };
    try {
      const { data, response } = await this.anonymous.POST('/v1/auth/login/mfa', {
        body: { mfaToken: this.mfaToken, code },
      });
      if (!data) return failure(response);
      this.keep(data);
      return { ok: true, next: 'done' };
    } catch {
      return { ok: false, kind: 'network' };
    }
  }

  /**
   * The passkey path of the second step: navigator.credentials.get() for the pending sign-in's
   * challenge (the WebAuthn code is loaded only now, keeping it out of the initial bundle).
   */
  async completeWithPasskey(): Promise<LoginOutcome> {
    if (!this.mfaToken) return { ok: false, kind: 'wrong' };
    try {
      const { signInWithPasskey, isDeviceRefusal } = await import('./passkeys');
      try {
        this.keep(await signInWithPasskey(this.anonymous, this.mfaToken));
        return { ok: true, next: 'done' };
      } catch (error) {
        if (isDeviceRefusal(error)) return { ok: false, kind: 'passkeyCancelled' };
        if (error instanceof ApiError) {
          if (error.status === 429) return { ok: false, kind: 'tooMany', retryAfter: 60 };
          if (error.status === 401 || error.status === 422) return { ok: false, kind: 'wrong' };
          return { ok: false, kind: 'server', status: error.status, reference: error.reference };
        }
        throw error;
      }
    } catch {
      return { ok: false, kind: 'network' };
    }
  }

  /** Tokens of a full session that an enrolment answered. */
  adopt(tokens: TokenPair): void {
    this.keep(tokens);
  }

  /** Revokes the login on the server (best effort) and forgets the tokens. */
  async logout(): Promise<void> {
    const refreshToken = this.refreshToken;
    this.forget();
    if (refreshToken) {
      await this.anonymous.POST('/v1/auth/logout', { body: { refreshToken } }).catch(() => undefined);
    }
  }

  async me(): Promise<Me> {
    const { data, error, response } = await this.client.GET('/v1/auth/me');
    if (!data) throw new ApiError(response, error);
    return data;
  }

  private keep(tokens: TokenPair): void {
    this.access = tokens.accessToken;
    this.refreshToken = tokens.refreshToken;
    this.mfaToken = null;
    this.mfaMethods = [];
    this.enrolmentOnly = false;
  }

  private forget(): void {
    this.access = null;
    this.refreshToken = null;
    this.mfaToken = null;
    this.mfaMethods = [];
    this.enrolmentOnly = false;
  }

  private async send(request: Request): Promise<Response> {
    const again = request.clone();
    const sentWith = this.access;
    const first = await fetch(this.authorize(request));
    if (first.status !== 401 || sentWith === null) return first;
    // Another call may have refreshed meanwhile; else spend the refresh token.
    if (this.access === sentWith && !(await this.refresh())) {
      if (this.access === null || this.access === sentWith) this.expire();
      return first;
    }
    if (this.access === null) return first;
    return fetch(this.authorize(again));
  }

  private authorize(request: Request): Request {
    if (this.access) request.headers.set('authorization', `Bearer ${this.access}`);
    return request;
  }

  private refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      const refreshToken = this.refreshToken;
      if (!refreshToken) return false;
      try {
        const { data } = await this.anonymous.POST('/v1/auth/refresh', { body: { refreshToken } });
        if (!data) return false;
        this.keep(data);
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private expire(): void {
    const wasSignedIn = this.access !== null;
    this.forget();
    if (wasSignedIn) this.expiredListener();
  }
}

function failure(response: Response): LoginOutcome {
  if (response.status === 401 || response.status === 422) return { ok: false, kind: 'wrong' };
  if (response.status === 429) {
    return { ok: false, kind: 'tooMany', retryAfter: Number(response.headers.get('retry-after') ?? 60) || 60 };
  }
  return { ok: false, kind: 'server', status: response.status, ...reference(response) };
}

function reference(response: Response): { reference?: string } {
  const id = response.headers.get('x-request-id');
  return id ? { reference: id } : {};
}

/** An answer other than the one a page asked for, with what the page shows about it. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails | undefined;
  readonly reference: string | undefined;

  constructor(response: Response, body: unknown) {
    const problem = isProblem(body) ? body : undefined;
    super(problem?.detail ?? problem?.title ?? `HTTP ${response.status}`);
    this.status = response.status;
    this.problem = problem;
    this.reference = problem?.correlationId ?? response.headers.get('x-request-id') ?? undefined;
  }
}

function isProblem(body: unknown): body is ProblemDetails {
  return typeof body === 'object' && body !== null && 'status' in body && 'title' in body;
}

/** The data of a typed call, or an ApiError that the page turns into a message. */
export function must<D>(result: { data?: D; error?: unknown; response: Response }): D {
  if (result.data === undefined) throw new ApiError(result.response, result.error);
  return result.data;
}

/** For answers without a body (204): throws unless the status is a success. */
export function mustSucceed(result: { error?: unknown; response: Response }): void {
  if (!result.response.ok) throw new ApiError(result.response, result.error);
}
