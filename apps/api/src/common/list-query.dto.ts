import { createZodDto } from './zod-dto';
import { ListQuerySchema } from './pagination';

/** limit, cursor and sort: the query of a list without filters of its own. */
export class ListQuery extends createZodDto(ListQuerySchema) {}
