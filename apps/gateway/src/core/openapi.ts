import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

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
  SwaggerModule.setup(OPENAPI_UI_PATH, app, document, {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    customSiteTitle: 'Fleetcore API',
    swaggerOptions: { persistAuthorization: true },
  });
  return document;
}
