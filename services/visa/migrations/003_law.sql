-- The law's corrections (issue 19, DOMAIN §11).

-- From titp.accreditation.v1: a TITP plan's operation (作業; shared.reference, for the SSW (i) field it relates
-- to) from its application, and why a plan was discontinued (a bankruptcy or a transfer is not held against
-- the trainee for SSW (i)). Rows recorded before: neither is known.
ALTER TABLE known_training_plans
    ADD COLUMN operation              text,
    ADD COLUMN discontinuation_reason text;

-- From titp.registry.v1: an expired permit stops new COEs like a revoked one.
ALTER TABLE known_permit_restrictions DROP CONSTRAINT known_permit_restrictions_kind_check;
ALTER TABLE known_permit_restrictions
    ADD CONSTRAINT known_permit_restrictions_kind_check CHECK (kind IN ('revoked', 'expired', 'suspended'));

-- The implementing organizations' evaluation reports (評価調書) immigration received, one per stage-ii plan.
CREATE TABLE evaluation_reports (
    id               uuid PRIMARY KEY,
    training_plan_id uuid    NOT NULL UNIQUE,
    trainee_id       uuid    NOT NULL,
    state            jsonb   NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX evaluation_reports_trainee ON evaluation_reports (trainee_id, id);
