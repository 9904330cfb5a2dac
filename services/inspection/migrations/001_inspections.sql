-- Read model: inspections, one row per aggregate. `state` is the aggregate's state as JSON;
-- the columns beside it are what the worklist filters and orders on.
CREATE TABLE inspections (
    id                             uuid PRIMARY KEY,
    target_type                    text    NOT NULL,
    target_id                      uuid    NOT NULL,
    extraordinary                  boolean NOT NULL,
    status                         text    NOT NULL,
    scheduled_on                   date    NOT NULL,
    due_by                         date    NOT NULL,
    closed_on                      date,  -- inspected or cancelled on
    improvement_report_due         date,  -- set by a recommendation only
    improvement_report_received_on date,
    state                          jsonb   NOT NULL,
    version                        integer NOT NULL
);
CREATE INDEX inspections_due ON inspections (due_by, id);
CREATE INDEX inspections_target ON inspections (target_id, due_by);
CREATE INDEX inspections_open ON inspections (due_by, id) WHERE status = 'scheduled';
CREATE INDEX inspections_awaiting_report ON inspections (due_by, id)
    WHERE improvement_report_due IS NOT NULL AND improvement_report_received_on IS NULL;

-- The organizations this service has heard of from the registry and accreditation, and
-- whether their regular schedule has started (first inspection scheduled) or ended (permit
-- revoked or expired: nothing more is scheduled for them).
CREATE TABLE organizations (
    id                  uuid PRIMARY KEY,
    target_type         text NOT NULL,
    schedule_started_on date,
    schedule_ended_on   date
);
