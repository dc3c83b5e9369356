-- Updates are float32 bytes, which do not compress: EXTERNAL stores them out of line (TOAST) without trying
-- to compress them first (decision 0015: a 4 MB insert 155 ms → 36 ms). drizzle-kit cannot express a
-- column's storage, hence this custom migration.
ALTER TABLE "updates" ALTER COLUMN "delta" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "async_updates" ALTER COLUMN "delta" SET STORAGE EXTERNAL;
