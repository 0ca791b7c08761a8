import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';

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
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A JWT access token or an API key (mr_...)' })
    .build();
  // nestjs-zod's schemas need its post-processing to be valid OpenAPI 3.1.
  return cleanupOpenApiDoc(SwaggerModule.createDocument(app, config), { version: '3.1' });
}

/** Serves the document at /openapi.json and browsable docs at /docs. */
export function mountOpenApi(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}
