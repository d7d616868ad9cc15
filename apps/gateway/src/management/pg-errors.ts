import { BadRequestException, ConflictException } from '@nestjs/common';

export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';

/** What to answer when a write breaks a constraint the caller can break; absent: rethrown as is. */
export interface ViolationAnswers {
  /** 409 Conflict, on a unique violation. */
  unique?: string;
  /** 400 Bad Request, on a foreign key violation. */
  foreignKey?: string;
}

/** For a `catch`: turns the constraint violations a caller causes into 409 / 400; rethrows anything else. */
export function rethrowViolation(err: unknown, answers: ViolationAnswers): never {
  const { code } = err as { code?: string };
  if (code === PG_UNIQUE_VIOLATION && answers.unique !== undefined) throw new ConflictException(answers.unique);
  if (code === PG_FOREIGN_KEY_VIOLATION && answers.foreignKey !== undefined) {
    throw new BadRequestException(answers.foreignKey);
  }
  throw err;
}
