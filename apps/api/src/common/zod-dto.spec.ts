import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createZodDto, withoutTypeArrays } from './zod-dto';

describe('createZodDto', () => {
  it('documents a nullable primitive as that type or null, not as an array', () => {
    class Sut extends createZodDto(
      z.object({ at: z.string().nullable(), score: z.number().nullable().optional(), tags: z.array(z.string()) }),
    ) {}

    const properties = Sut._OPENAPI_METADATA_FACTORY() as Record<string, Record<string, unknown>>;

    expect(properties.at).toMatchObject({ type: '', anyOf: [{ type: 'string' }, { type: 'null' }] });
    expect(properties.score).toMatchObject({ type: '', anyOf: [{ type: 'number' }, { type: 'null' }] });
    expect(properties.tags).toMatchObject({ type: 'array', items: { type: 'string' } });
  });
});

describe('withoutTypeArrays', () => {
  it.each([
    [{ type: ['string', 'null'] }, { anyOf: [{ type: 'string' }, { type: 'null' }] }],
    [{ type: ['integer'] }, { type: 'integer' }],
    [
      { type: 'object', properties: { a: { type: ['number', 'null'], minimum: 0 } } },
      { type: 'object', properties: { a: { anyOf: [{ type: 'number' }, { type: 'null' }], minimum: 0 } } },
    ],
    [
      { type: 'object', default: { type: ['kept'] } },
      { type: 'object', default: { type: ['kept'] } },
    ],
    [
      { type: 'string', enum: ['a', 'b'] },
      { type: 'string', enum: ['a', 'b'] },
    ],
  ])('rewrites %j as %j', (input, expected) => {
    expect(withoutTypeArrays(input)).toEqual(expected);
  });
});
