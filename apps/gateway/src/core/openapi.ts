import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { JsonLogger } from '#lib/telemetry';

export const OPENAPI_JSON_PATH = 'api/openapi.json';
export const OPENAPI_UI_PATH = 'api/docs';

/** Serves the OpenAPI document at /api/openapi.json and Swagger UI at /api/docs (both public). */
export function setupOpenApi(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Fleetcore API')
    .setDescription(
      'Control plane for fleets of container-optimized Linux machines. Authenticate with ' +
        '`Authorization: Bearer <token>`; roles are viewer (read), operator (change fleet state) and ' +
        'admin (tokens, audit). Errors are JSON `{ "code", "message", "details"? }`.',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a Fleetcore API token (fct_…)' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const missing = fillMissingSummaries(document);
  if (missing.length > 0) {
    new JsonLogger('gateway', 'OpenApi').warn('routes without an @ApiOperation summary', { routes: missing });
  }
  SwaggerModule.setup(OPENAPI_UI_PATH, app, document, {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    customSiteTitle: 'Fleetcore API',
    swaggerOptions: { persistAuthorization: true },
  });
  return document;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Every operation in the document gets a summary: a route without `@ApiOperation({ summary })`
 * is listed as `METHOD /path` (and named in a start-up warning) rather than left blank.
 */
export function fillMissingSummaries(document: OpenAPIObject): string[] {
  const missing: string[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation && !operation.summary) {
        operation.summary = `${method.toUpperCase()} ${path}`;
        missing.push(operation.summary);
      }
    }
  }
  return missing;
}
