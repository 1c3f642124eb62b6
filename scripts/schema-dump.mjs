// Regenerates the committed schema dumps from fresh, fully migrated databases (npm run schema:dump):
// src/store/sqlite/schema.sql always; src/store/postgres/schema.sql when a PostgreSQL URL is given
// (--pg URL or FTNODE_TEST_PG_URL), in a scratch schema that is dropped afterwards.
// test/store-schema.test.ts fails while a dump differs from what the migrations produce.
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

const dist = new URL('../dist/src/store/', import.meta.url);
const { openSqlite, migrateSqlite } = await import(new URL('sqlite/db.js', dist).href);
const { dumpSqliteSchema } = await import(new URL('sqlite/schema.js', dist).href);

const lite = openSqlite(':memory:');
migrateSqlite(lite, 0);
writeFileSync(new URL('../src/store/sqlite/schema.sql', import.meta.url), dumpSqliteSchema(lite));
lite.close();
console.log('wrote src/store/sqlite/schema.sql');

const i = process.argv.indexOf('--pg');
const url = i >= 0 ? process.argv[i + 1] : process.env.FTNODE_TEST_PG_URL;
if (!url) {
  console.log('src/store/postgres/schema.sql unchanged: no PostgreSQL URL (--pg URL or FTNODE_TEST_PG_URL)');
} else {
  const { PgDb } = await import(new URL('postgres/pg-db.js', dist).href);
  const { migratePg } = await import(new URL('postgres/migrations.js', dist).href);
  const { dumpPgSchema } = await import(new URL('postgres/schema.js', dist).href);
  const schema = `schema_dump_${randomBytes(6).toString('hex')}`;
  const db = new PgDb(url, { schema });
  try {
    await migratePg(db, 0);
    writeFileSync(new URL('../src/store/postgres/schema.sql', import.meta.url), await dumpPgSchema(db));
    console.log('wrote src/store/postgres/schema.sql');
  } finally {
    await db.tx((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await db.close();
  }
}
