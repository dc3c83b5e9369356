ALTER TABLE `rounds` ADD `optimizer_state` blob;--> statement-breakpoint
CREATE INDEX `round_skips_participant` ON `round_skips` (`participant_id`);--> statement-breakpoint
CREATE INDEX `updates_participant` ON `updates` (`participant_id`);