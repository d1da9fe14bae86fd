import { ConflictError, NotFoundError } from '../../store.js';

/**
 * True for a lookup key no row can hold: PostgreSQL text cannot contain NUL and refuses such a
 * parameter outright (22021), so an untrusted id, email or tenant with a NUL byte would be a
 * 500 there. Lookups answer "not found" instead, on every engine alike.
 */
export function unstorable(key: string): boolean {
  return key.includes('\0');
}

/** Maps engine-specific constraint failures to the store's typed errors. */
export async function mapConstraintErrors<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (
      code === '23505' ||
      code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
      code === 'SQLITE_CONSTRAINT_UNIQUE'
    ) {
      throw new ConflictError(`${what} already exists`);
    }
    if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      throw new NotFoundError(`${what}: a referenced tenant, user or client does not exist`);
    }
    throw err;
  }
}
