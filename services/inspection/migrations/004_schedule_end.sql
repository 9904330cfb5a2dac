-- Issue 19 (DOMAIN §11, §5). Improvement guidance asks for an improvement report too, and a wait for a report
-- ends when the organization's permit is revoked or expires (ImprovementReportWaitClosed): the day it was
-- closed, beside the day a report was received, for the worklists of reports awaited and overdue.
ALTER TABLE inspections ADD COLUMN report_wait_closed_on date;
DROP INDEX inspections_awaiting_report;
CREATE INDEX inspections_awaiting_report ON inspections (due_by, id)
    WHERE improvement_report_due IS NOT NULL AND improvement_report_received_on IS NULL
      AND report_wait_closed_on IS NULL;

-- Why an organization's schedule ended: permit_revoked, permit_expired (for good), or no_plans_in_force (an
-- implementing organization's; a new certified plan starts it again). Schedules ended before this column were
-- ended by a permit's end.
ALTER TABLE organizations ADD COLUMN schedule_end_reason text;

-- Each implementing organization's certified plans and the day each ended (completed, discontinued, revoked,
-- transferred), from accreditation's events: an employer with none in force leaves the schedule.
CREATE TABLE employer_plans (
    plan_id                      uuid PRIMARY KEY,
    implementing_organization_id uuid NOT NULL,
    certified_on                 date,
    ended_on                     date
);
CREATE INDEX employer_plans_in_force ON employer_plans (implementing_organization_id) WHERE ended_on IS NULL;

-- Whether this service saw every certified plan of the organization. An employer whose schedule started before
-- the plans were kept here had plans this table never heard of: its schedule is not ended for want of plans (a
-- replay of the topics into a fresh database knows them all).
ALTER TABLE organizations ADD COLUMN plans_known boolean NOT NULL DEFAULT true;
UPDATE organizations SET plans_known = false
 WHERE target_type = 'implementing_organization' AND schedule_started_on IS NOT NULL;
