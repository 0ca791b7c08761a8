import { createZodDto as createNestZodDto, type ZodDto } from 'nestjs-zod';

type UnknownSchema = Parameters<typeof createNestZodDto>[0];
type JsonObject = Record<string, unknown>;

// Values that are data, not schemas: a default of `{ type: [...] }` must stay as it is.
const DATA_KEYWORDS = new Set(['default', 'examples', 'example', 'enum', 'const']);

/**
 * Rewrites JSON Schema's type-array shorthand (`type: ['string', 'null']`) as the equivalent
 * `anyOf` of single types, in a schema and every schema inside it. Keywords beside `type`
 * (description, format, minimum, ...) stay on the outer schema, where they still apply to the
 * matching type only, so the meaning is unchanged.
 */
export function withoutTypeArrays<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map((item: unknown) => withoutTypeArrays(item)) as T;
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value as JsonObject)) {
    out[key] = DATA_KEYWORDS.has(key) ? child : withoutTypeArrays(child);
  }
  const types = out.type;
  if (Array.isArray(types) && types.every((t) => typeof t === 'string')) {
    if (types.length === 1) {
      out.type = types[0];
    } else {
      delete out.type;
      out.anyOf = types.map((type: string) => ({ type }));
    }
  }
  return out as T;
}

/**
 * nestjs-zod's createZodDto, with a document that means what the schema says.
 *
 * zod >= 4.5 writes a nullable primitive (`z.string().nullable()`) with the type-array shorthand
 * `type: ['string', 'null']`. nestjs-zod 5.5 hands each property to @nestjs/swagger, which reads
 * an array-valued `type` as its own `type: [String]` notation ("an array of string") and emits
 * `{ type: 'array', items: { type: 'string' } }`: every bare nullable field became an array
 * (nestjs-zod issues #473/#474, fix not released). Rewriting the shorthand as `anyOf` before
 * swagger sees it keeps the field a nullable string. Use this, never nestjs-zod's directly.
 */
export function createZodDto<TSchema extends UnknownSchema>(schema: TSchema): ZodDto<TSchema, false> {
  const Dto = createNestZodDto(schema);
  const properties = Dto._OPENAPI_METADATA_FACTORY;
  // `this` is the DTO class swagger asks (a subclass of Dto), as in nestjs-zod's own method.
  Dto._OPENAPI_METADATA_FACTORY = function (this: typeof Dto): unknown {
    const byName = properties.call(this) as Record<string, JsonObject>;
    return Object.fromEntries(
      // swagger wants a `type` on each property: '' is nestjs-zod's mark for "none", which its
      // cleanupOpenApiDoc removes again.
      Object.entries(byName).map(([name, property]) => [name, { type: '', ...withoutTypeArrays(property) }]),
    );
  };
  return Dto;
}
