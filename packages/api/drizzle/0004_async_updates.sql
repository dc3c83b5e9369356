CREATE TABLE `async_updates` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`round_id` integer NOT NULL,
	`participant_id` text NOT NULL,
	`base_version` integer NOT NULL,
	`checksum` integer NOT NULL,
	`staleness` integer NOT NULL,
	`weight` real NOT NULL,
	`samples` real NOT NULL,
	`metrics` text,
	`delta` blob,
	`bytes` integer NOT NULL,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`round_id`) REFERENCES `rounds`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`participant_id`) REFERENCES `participants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `async_updates_round` ON `async_updates` (`round_id`);--> statement-breakpoint
CREATE INDEX `async_updates_participant` ON `async_updates` (`participant_id`);