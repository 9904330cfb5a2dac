-- Issue 25 item 3: from titp.accreditation.v1, the pauses of a plan in progress (TrainingPlanPaused, and
-- TrainingPlanResumed), oldest first: [{"from", "resumed_on", "reason"}]. A pause never cancels the status of
-- residence; immigration sees it on GET /v1/trainees/{id}/residence. Plans recorded before: none.
ALTER TABLE known_training_plans ADD COLUMN pauses jsonb NOT NULL DEFAULT '[]';
