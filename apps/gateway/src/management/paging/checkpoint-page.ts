import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';

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
