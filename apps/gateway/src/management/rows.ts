import { NotFoundException } from '@nestjs/common';
import { FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';

/** The row `where` selects, or a 404 with `message`. */
export async function findOr404<E extends ObjectLiteral>(
  repo: Repository<E>,
  where: FindOptionsWhere<E>,
  message: string,
): Promise<E> {
  const found = await repo.findOneBy(where);
  if (!found) throw new NotFoundException(message);
  return found;
}

/** Deletes the rows `where` selects, or answers 404 with `message` when there were none. */
export async function deleteOr404<E extends ObjectLiteral>(
  repo: Repository<E>,
  where: FindOptionsWhere<E>,
  message: string,
): Promise<void> {
  const result = await repo.delete(where);
  if (!result.affected) throw new NotFoundException(message);
}
