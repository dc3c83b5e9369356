ALTER TABLE `async_updates` ADD `file` text;--> statement-breakpoint
ALTER TABLE `updates` ADD `file` text;