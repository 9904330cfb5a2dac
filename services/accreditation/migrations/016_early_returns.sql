-- Issue 25 item 1: early returns home, one row per return filed (on its plan's stream), with its status:
-- confirmed (ended the plan at once), flagged (awaits an officer's decision), accepted or refused (decided).
CREATE TABLE early_returns (
    id                           uuid PRIMARY KEY,
    training_plan_id             uuid    NOT NULL,
    trainee_id                   uuid    NOT NULL,
    implementing_organization_id uuid    NOT NULL,
    supervising_organization_id  uuid,
    scheme                       text    NOT NULL,
    reason                       text    NOT NULL,
    returned_on                  date    NOT NULL,
    filed_on                     date    NOT NULL,
    status                       text    NOT NULL,
    flags                        text[]  NOT NULL,
    document                     jsonb   NOT NULL
);
CREATE INDEX early_returns_employer ON early_returns (implementing_organization_id, returned_on);
CREATE INDEX early_returns_returned ON early_returns (returned_on);
CREATE INDEX early_returns_plan ON early_returns (training_plan_id);
CREATE INDEX early_returns_worklist ON early_returns (filed_on, id) WHERE status = 'flagged';
