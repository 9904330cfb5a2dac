-- What the visa service knows of other services, from their topics (never from their databases).

-- Training plans from titp.accreditation.v1, one row per plan, at the version of its last event.
CREATE TABLE known_training_plans (
    id                          uuid PRIMARY KEY,
    trainee_id                  uuid    NOT NULL,
    stage                       text    NOT NULL,
    job_category                text    NOT NULL,
    supervising_organization_id uuid,
    start_date                  date    NOT NULL,
    end_date                    date    NOT NULL,
    status                      text    NOT NULL,
    certified_on                date,
    ended_on                    date,
    exam_result                 text,
    version                     integer NOT NULL
);
CREATE INDEX known_training_plans_trainee ON known_training_plans (trainee_id);

-- Revocations and suspensions of supervising organizations' permits from titp.registry.v1.
CREATE TABLE known_permit_restrictions (
    event_id                    uuid PRIMARY KEY,
    supervising_organization_id uuid NOT NULL,
    kind                        text NOT NULL CHECK (kind IN ('revoked', 'suspended')),
    from_date                   date NOT NULL,
    until_date                  date
);
CREATE INDEX known_permit_restrictions_organization ON known_permit_restrictions (supervising_organization_id);

-- Read models of this service's own aggregates; `state` is the aggregate's state as JSON, the
-- columns beside it are what lists filter on.
CREATE TABLE coe_applications (
    id               uuid PRIMARY KEY,
    training_plan_id uuid    NOT NULL,
    trainee_id       uuid    NOT NULL,
    lifecycle        text    NOT NULL,
    state            jsonb   NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX coe_applications_plan ON coe_applications (training_plan_id);
CREATE INDEX coe_applications_trainee ON coe_applications (trainee_id, id);
CREATE INDEX coe_applications_lifecycle ON coe_applications (lifecycle, id);

CREATE TABLE visas (
    id               uuid PRIMARY KEY,
    coe_id           uuid    NOT NULL UNIQUE,
    training_plan_id uuid    NOT NULL,
    trainee_id       uuid    NOT NULL,
    state            jsonb   NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX visas_trainee ON visas (trainee_id, id);

CREATE TABLE status_changes (
    id               uuid PRIMARY KEY,
    training_plan_id uuid    NOT NULL UNIQUE,
    trainee_id       uuid    NOT NULL,
    to_stage         text    NOT NULL,
    state            jsonb   NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX status_changes_trainee ON status_changes (trainee_id, id);
