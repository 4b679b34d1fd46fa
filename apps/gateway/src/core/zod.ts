import { applyDecorators, Injectable, type PipeTransform } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { parseOrThrow } from '#contracts/common';

/**
 * Validates a query, body or param at the edge with a zod schema. Failure is a
 * `validation_failed` FleetError (HTTP 400) whose details list every issue.
 *
 *   list(@Query(new ZodPipe(listQuery, 'query')) q: z.output<typeof listQuery>)
 */
@Injectable()
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly what = 'request',
  ) {}

  transform(value: unknown): z.output<S> {
    return parseOrThrow(this.schema, value, this.what);
  }
}

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[] };

/** A zod schema as OpenAPI-compatible JSON Schema (input side, i.e. what a client sends). */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** Documents each property of a zod object schema as a query parameter. */
export function ApiZodQuery(schema: z.ZodType): MethodDecorator {
  const json = jsonSchemaOf(schema);
  const required = new Set(json.required ?? []);
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, prop]) =>
      ApiQuery({ name, required: required.has(name), schema: prop as never, description: prop.description as string }),
    ),
  );
}

export function ApiZodBody(schema: z.ZodType, description?: string): MethodDecorator {
  return ApiBody({ schema: jsonSchemaOf(schema) as never, description });
}

export function ApiZodResponse(status: number, schema: z.ZodType | null, description: string): MethodDecorator {
  return ApiResponse({ status, description, ...(schema ? { schema: jsonSchemaOf(schema, 'output') as never } : {}) });
}

export function ApiIdParam(name = 'id', description = 'identifier'): MethodDecorator {
  return ApiParam({ name, description, schema: { type: 'string' } });
}

export const errorResponseSchema = z.object({
  code: z.string().describe('machine-readable error code'),
  message: z.string(),
  details: z.unknown().optional(),
});

/** The error answers every authenticated route may give, documented once. */
export function ApiStandardErrors(): MethodDecorator & ClassDecorator {
  const schema = jsonSchemaOf(errorResponseSchema, 'output') as never;
  return applyDecorators(
    ApiResponse({ status: 400, description: 'invalid input (`validation_failed`, `bad_request`)', schema }),
    ApiResponse({ status: 401, description: 'missing or invalid bearer token (`unauthorized`)', schema }),
    ApiResponse({ status: 403, description: 'role too low (`forbidden`)', schema }),
    ApiResponse({ status: 503, description: 'a platform service is unreachable (`unavailable`)', schema }),
  );
}
