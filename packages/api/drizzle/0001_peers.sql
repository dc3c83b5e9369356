CREATE TABLE `peer_ready` (
	`task_id` text NOT NULL,
	`round` integer NOT NULL,
	`participant_id` text NOT NULL,
	`ready_at` integer NOT NULL,
	`metrics` text,
	PRIMARY KEY(`task_id`, `round`, `participant_id`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`participant_id`) REFERENCES `participants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `peer_rounds` (
	`task_id` text NOT NULL,
	`number` integer NOT NULL,
	`phase` text NOT NULL,
	`opened_at` integer NOT NULL,
	`gather_until` integer NOT NULL,
	`started_at` integer,
	`deadline_at` integer,
	`members` text,
	`groups` text,
	`topology` text,
	PRIMARY KEY(`task_id`, `number`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `peer_signals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` text NOT NULL,
	`from_id` text NOT NULL,
	`to_id` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`from_id`) REFERENCES `participants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`to_id`) REFERENCES `participants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `peer_signals_to` ON `peer_signals` (`to_id`,`id`);