import { BadRequestException } from '@nestjs/common';

/**
 * A string field of a JSON body, checked by hand: the sample needs no validation library.
 * Anything else (missing, wrong type, too short or long) is a 400 naming the field.
 */
export function stringField(body: unknown, name: string, minLength = 1, maxLength = 200): string {
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value !== 'string' || value.length < minLength || value.length > maxLength) {
    throw new BadRequestException(
      `${name} must be a string of ${minLength} to ${maxLength} characters`,
    );
  }
  return value;
}
