import { defineConfig } from 'drizzle-kit';

// The PostgreSQL twin of drizzle.config.ts: `npx drizzle-kit generate --config drizzle.pg.config.ts` (in
// packages/api) writes a migration into ./drizzle-pg from src/db/schema.pg.ts. `npm run db:generate` runs both.
// Only `generate` is used: the tests apply these migrations with drizzle's node-postgres migrator.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.pg.ts',
  out: './drizzle-pg',
});
