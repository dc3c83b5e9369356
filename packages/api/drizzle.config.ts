import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate` (in packages/api) writes a migration into ./drizzle from src/db/schema.ts;
// the server applies pending migrations at start-up (src/db/client.ts).
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './drizzle',
  dbCredentials: { url: process.env.DISCO_DB ?? './.disco/disco.sqlite' },
});
