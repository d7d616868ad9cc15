import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { FindOptionsOrder, FindOptionsRelations, FindOptionsWhere, MoreThan, ObjectLiteral, Repository } from 'typeorm';

/** SPEC §6 checkpoint paging: `from` is the last id of the previous page (exclusive). */
export class CheckpointQuery {
  @ApiPropertyOptional({ description: 'id after which the page starts (the previous response\'s `next`)' })
  @IsOptional()
  @IsString()
  from?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  take?: number;
}

/**
 * Fetch take+1 rows to know whether another page exists, without counting. The list is returned
 * under the resource's name, as Auth0 does: `{connections: [...], next}`.
 */
export function toPage<R, T>(
  name: string,
  rows: R[],
  take: number,
  idOf: (r: R) => string,
  view: (r: R) => T,
): Record<string, T[] | string> {
  const page = rows.slice(0, take);
  const result: Record<string, T[] | string> = { [name]: page.map(view) };
  if (rows.length > take && page.length > 0) result.next = idOf(page[page.length - 1]);
  return result;
}

export const DEFAULT_TAKE = 50;

export interface PageSpec<E, T> {
  /** The list's name in the response. */
  name: string;
  /** The column paged on, whose values are the checkpoints: `id` when absent. */
  key?: keyof E & string;
  /** Filters besides the checkpoint. */
  where?: FindOptionsWhere<E>;
  relations?: FindOptionsRelations<E>;
  view: (row: E) => T;
}

/** One page of `repo`'s rows in `key` order, starting after `query.from`, shaped by toPage. */
export async function findPage<E extends ObjectLiteral, T>(
  repo: Repository<E>,
  query: CheckpointQuery,
  spec: PageSpec<E, T>,
): Promise<Record<string, T[] | string>> {
  const key: string = spec.key ?? 'id';
  const take = query.take ?? DEFAULT_TAKE;
  const rows = await repo.find({
    where: { ...spec.where, ...(query.from ? { [key]: MoreThan(query.from) } : {}) } as FindOptionsWhere<E>,
    relations: spec.relations,
    order: { [key]: 'ASC' } as FindOptionsOrder<E>,
    take: take + 1,
  });
  return toPage(spec.name, rows, take, (r) => r[key] as string, spec.view);
}
