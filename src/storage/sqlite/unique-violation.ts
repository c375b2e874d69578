import { DuplicateError } from '../storage.ts';

/** True when better-sqlite3 refused a write for a primary-key or unique constraint (→ DuplicateError). */
export function isUniqueViolation(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Runs one write, turning a unique-constraint refusal into DuplicateError(what). */
export function guardUnique<T>(what: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    if (isUniqueViolation(err)) throw new DuplicateError(what);
    throw err;
  }
}
