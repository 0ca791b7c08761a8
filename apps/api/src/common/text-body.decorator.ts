import { ApiExtension } from '@nestjs/swagger';

export const TEXT_BODY_EXTENSION = 'x-mailroom-text-body';

/**
 * The route also takes its body as plain text in these media types (text/csv: the CSV itself).
 * @ApiBody gives every consumed media type the same schema, so the document would say a text/csv
 * body is the JSON object; completeDocument (openapi.ts) makes these bodies strings instead.
 */
export const ApiTextBody = (...mediaTypes: string[]) => ApiExtension(TEXT_BODY_EXTENSION, mediaTypes);
