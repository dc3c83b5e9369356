CREATE TABLE `round_skips` (
	`round_id` integer NOT NULL,
	`participant_id` text NOT NULL,
	`skipped_at` integer NOT NULL,
	PRIMARY KEY(`round_id`, `participant_id`),
	FOREIGN KEY (`round_id`) REFERENCES `rounds`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`participant_id`) REFERENCES `participants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `rounds` ADD `clipped` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rounds` ADD `epsilon` real;--> statement-breakpoint
ALTER TABLE `rounds` ADD `delta` real;--> statement-breakpoint
ALTER TABLE `rounds` ADD `accountant` text;