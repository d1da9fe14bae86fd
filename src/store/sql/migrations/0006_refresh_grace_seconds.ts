import type { Kysely } from 'kysely';

// clients.refresh_grace was a flag (0/1) and becomes seconds (0: off). A client that had grace
// on gets the 30 s a bare `--refresh-grace` now means: before, its window had no bound at all.

interface Clients {
  clients: { refresh_grace: number };
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await (db as Kysely<Clients>)
    .updateTable('clients')
    .set({ refresh_grace: 30 })
    .where('refresh_grace', '=', 1)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await (db as Kysely<Clients>)
    .updateTable('clients')
    .set({ refresh_grace: 1 })
    .where('refresh_grace', '>', 0)
    .execute();
}
