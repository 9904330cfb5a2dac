-- Read model: training plans, one row per aggregate. Also what certification counts: the
-- trainee's other plans and the implementing organization's plans in force (quotas).
CREATE TABLE training_plans (
    id                           uuid PRIMARY KEY,
    trainee_id                   uuid    NOT NULL,
    stage                        text    NOT NULL,
    training_type                text    NOT NULL,
    job_category                 text    NOT NULL,
    implementing_organization_id uuid    NOT NULL,
    supervising_organization_id  uuid,
    start_date                   date    NOT NULL,
    end_date                     date    NOT NULL,
    status                       text    NOT NULL,
    ended_on                     date,
    exam_result                  text,
    document                     jsonb   NOT NULL,
    version                      integer NOT NULL
);
CREATE INDEX training_plans_trainee ON training_plans (trainee_id);
CREATE INDEX training_plans_implementing_organization ON training_plans (implementing_organization_id, stage, status);
CREATE INDEX training_plans_supervising_organization ON training_plans (supervising_organization_id, status);
CREATE INDEX training_plans_status ON training_plans (status, id);
