CREATE TABLE `model_versions` (
	`task_id` text NOT NULL,
	`version` integer NOT NULL,
	`weights` blob NOT NULL,
	`bytes` integer NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`round` integer,
	PRIMARY KEY(`task_id`, `version`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `participants` (
	`id` text PRIMARY KEY NOT NULL,
	`task_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`joined_at` integer NOT NULL,
	`first_round` integer NOT NULL,
	`last_heartbeat_at` integer NOT NULL,
	`left_at` integer,
	`address` text,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `participants_token` ON `participants` (`token_hash`);--> statement-breakpoint
CREATE INDEX `participants_task` ON `participants` (`task_id`);--> statement-breakpoint
CREATE TABLE `rounds` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` text NOT NULL,
	`number` integer NOT NULL,
	`phase` text NOT NULL,
	`base_version` integer NOT NULL,
	`model_version` integer,
	`opened_at` integer NOT NULL,
	`deadline_at` integer,
	`closed_at` integer,
	`participants` integer DEFAULT 0 NOT NULL,
	`submitted` integer DEFAULT 0 NOT NULL,
	`samples` real DEFAULT 0 NOT NULL,
	`metrics` text,
	`strategy` text NOT NULL,
	`extensions` integer DEFAULT 0 NOT NULL,
	`failure_reason` text,
	`state` text,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `rounds_task_number` ON `rounds` (`task_id`,`number`);--> statement-breakpoint
CREATE INDEX `rounds_phase` ON `rounds` (`phase`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`builtin` integer DEFAULT false NOT NULL,
	`model_topology` text,
	`uploaded_model` integer DEFAULT false NOT NULL,
	`shapes` text NOT NULL,
	`parameter_count` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `updates` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`round_id` integer NOT NULL,
	`participant_id` text NOT NULL,
	`samples` real NOT NULL,
	`metrics` text,
	`bytes` integer NOT NULL,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`round_id`) REFERENCES `rounds`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`participant_id`) REFERENCES `participants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `updates_round_participant` ON `updates` (`round_id`,`participant_id`);