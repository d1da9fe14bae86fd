import { ConflictError, NotFoundError } from '../../store.js';

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
