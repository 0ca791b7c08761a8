import type { INestApplication } from '@nestjs/common';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import { ALLOW_SUSPENDED_EXTENSION, PUBLIC_EXTENSION } from './auth/authenticated.decorator';
import { TEXT_BODY_EXTENSION } from './common/text-body.decorator';

const PROBLEM_REF = '#/components/schemas/ProblemDetails';

/** The body of every error response (ProblemDetailsFilter), as a schema. */
const PROBLEM_DETAILS: SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details, sent as application/problem+json',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', description: 'urn:mailroom:problem:<kind>, or about:blank' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The request path' },
    correlationId: { type: 'string', description: 'The request id (X-Request-Id): quote it when reporting' },
    errors: {
      type: 'array',
      description: 'Per field, for 422',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const WRITES = new Set<string>(['put', 'post', 'delete', 'patch']);

/** The OpenAPI 3.1 document, generated from the controllers' decorators. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Mailroom API')
    .setDescription(
      'Hosted multi-tenant mail: resellers, tenants, domains with DNS onboarding, mailboxes, ' +
        'aliases, rules, deliveries. Errors are application/problem+json (RFC 9457).',
    )
    .setVersion('1')
    // Relative: the API serves this document at its own root.
    .addServer('/')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A JWT access token or an API key (mr_...)' })
    .build();
  // nestjs-zod's schemas need its post-processing to be valid OpenAPI 3.1.
  const document = cleanupOpenApiDoc(SwaggerModule.createDocument(app, config), { version: '3.1' });
  return completeDocument(document);
}

/**
 * What the decorators do not say, added in one place so every route gets it the same way:
 * error bodies, the validation and malformed-body answers, unique operation ids, and 3.1
 * nullability where a library decorator (terminus) still writes OpenAPI 3.0's `nullable`.
 */
function completeDocument(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components };
  document.components.schemas = { ...document.components.schemas, ProblemDetails: PROBLEM_DETAILS };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) completeOperation(operation, WRITES.has(method) && path.includes('{tenantId}'));
    }
  }
  return upgradeNullable(document);
}

/** `tenantWrite`: a write to a tenant's resources, which AuthGuard refuses while it is suspended. */
function completeOperation(operation: OperationObject, tenantWrite: boolean): void {
  const extensions = operation as unknown as Record<string, unknown>;
  // swagger drops an empty `security` given on a method, so @Public() marks it with an extension.
  if (PUBLIC_EXTENSION in operation) {
    delete extensions[PUBLIC_EXTENSION];
    operation.security = [];
  }
  const textBody = extensions[TEXT_BODY_EXTENSION] as string[] | undefined;
  delete extensions[TEXT_BODY_EXTENSION];
  if (textBody && operation.requestBody && 'content' in operation.requestBody) {
    for (const mediaType of textBody) operation.requestBody.content[mediaType] = { schema: { type: 'string' } };
  }
  const allowSuspended = ALLOW_SUSPENDED_EXTENSION in operation;
  delete extensions[ALLOW_SUSPENDED_EXTENSION];
  // One handler on two paths gets ids `x[0]` and `x[1]` from swagger: not URL-safe, and SDK
  // generators make odd method names of them. The first path keeps the plain id.
  operation.operationId = operation.operationId?.replace(/\[(\d+)\]$/, (_m: string, n: string) =>
    n === '0' ? '' : `_${n}`,
  );
  const responses = operation.responses as Record<string, ResponseObject>;
  const takesInput =
    operation.requestBody !== undefined || (operation.parameters ?? []).some((p) => 'in' in p && p.in === 'query');
  if (takesInput && !responses['422']) {
    responses['422'] = { description: 'Invalid fields: `errors` names each one (problem+json)' };
  }
  if (tenantWrite && !allowSuspended && !responses['423']) {
    responses['423'] = { description: 'The tenant is suspended or deleted: changes are refused (problem+json)' };
  }
  const body = operation.requestBody;
  if (body && 'content' in body && body.content['application/json'] && !responses['400']) {
    responses['400'] = { description: 'The body is not well-formed JSON (problem+json)' };
  }
  for (const [status, response] of Object.entries(responses)) {
    if (Number(status) >= 400 && !response.content) {
      response.content = { 'application/problem+json': { schema: { $ref: PROBLEM_REF } } };
    }
  }
}

/** `{ type: X, nullable: true }` (OpenAPI 3.0) as `{ type: [X, 'null'] }` (3.1), anywhere in the document. */
function upgradeNullable<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => upgradeNullable(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    out[key] = key === 'example' || key === 'examples' ? child : upgradeNullable(child);
  }
  if (out.nullable === true && typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    delete out.nullable;
  }
  return out as T;
}

/** Serves the document at /openapi.json and browsable docs at /docs. */
export function mountOpenApi(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}
