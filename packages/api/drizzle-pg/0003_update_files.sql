ALTER TABLE "async_updates" ADD COLUMN "file" text;--> statement-breakpoint
ALTER TABLE "updates" ADD COLUMN "file" text;