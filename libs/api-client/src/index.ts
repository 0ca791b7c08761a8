import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };

/** The typed client: `client.POST('/v1/tenants', { body })` is checked against the document. */
export type ApiClient = Client<paths>;

/** A schema of the document by name: `ApiSchema<'CreatedApiKeyResponse'>`. */
export type ApiSchema<Name extends keyof components['schemas']> = components['schemas'][Name];

/** The body of every error answer (application/problem+json, RFC 9457). */
export type ProblemDetails = ApiSchema<'ProblemDetails'>;

/**
 * A client of the Mailroom API, typed by its OpenAPI document (apps/api/openapi.json, through
 * the generated ./schema.ts). `auth` is a JWT access token or an API key (mr_...); without it
 * only the public routes answer. Error answers come back in `error`, not as exceptions.
 */
export function createApiClient(
  baseUrl: string,
  auth?: string,
  options: Omit<ClientOptions, 'baseUrl' | 'headers'> & { headers?: Record<string, string> } = {},
): ApiClient {
  const authorization = auth === undefined ? {} : { authorization: `Bearer ${auth}` };
  return createClient<paths>({ ...options, baseUrl, headers: { ...options.headers, ...authorization } });
}
