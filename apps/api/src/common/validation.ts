import { createZodValidationPipe } from 'nestjs-zod';
import type { ZodError } from 'zod';
import { ValidationFailed, type FieldProblem } from '@mailroom/core';

/** Zod issues as one problem per field, with the field's dotted path. */
export function fieldProblems(error: ZodError): FieldProblem[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(body)';
    if (issue.code === 'unrecognized_keys') {
      return {
        field: issue.keys.map((k) => (field === '(body)' ? k : `${field}.${k}`)).join(', '),
        message: 'unknown field: not accepted',
      };
    }
    return { field, message: issue.message };
  });
}

/** Every body, query and path DTO is validated with its zod schema; failures are 422 problems. */
export const ValidationPipe = createZodValidationPipe({
  createValidationException: (error: unknown) =>
    new ValidationFailed('The request has invalid fields.', fieldProblems(error as ZodError)),
});
