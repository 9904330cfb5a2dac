-- Employment for Skill Development (DOMAIN §9): plans of either scheme, statuses of residence by scheme,
-- and the exam results the exam body reported (for Specified Skilled Worker (i)).

-- What titp.accreditation.v1 tells of a plan's scheme and, from its application, the ESD details and the
-- exams passed. Rows recorded before: TITP plans.
ALTER TABLE known_training_plans
    ALTER COLUMN stage DROP NOT NULL,
    ADD COLUMN scheme         text    NOT NULL DEFAULT 'titp' CHECK (scheme IN ('titp', 'esd')),
    ADD COLUMN field          text,
    ADD COLUMN transfer_from  uuid,
    ADD COLUMN extension      boolean NOT NULL DEFAULT false,
    ADD COLUMN exams_passed   jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN transferred_on date,
    ADD COLUMN transferred_to uuid;

-- The scheme of each certificate, visa and change of status, for the lists to filter on.
ALTER TABLE coe_applications ADD COLUMN scheme text NOT NULL DEFAULT 'titp';
CREATE INDEX coe_applications_scheme ON coe_applications (scheme, id);
ALTER TABLE visas ADD COLUMN scheme text NOT NULL DEFAULT 'titp';
CREATE INDEX visas_scheme ON visas (scheme, id);
ALTER TABLE status_changes
    ALTER COLUMN to_stage DROP NOT NULL,
    ADD COLUMN scheme text NOT NULL DEFAULT 'titp';
CREATE INDEX status_changes_scheme ON status_changes (scheme, id);

-- Exam results from titp.accreditation.v1 (`ExamResultRecorded`, the trainee's stream), passed or failed.
CREATE TABLE known_exam_results (
    event_id   uuid PRIMARY KEY,
    trainee_id uuid NOT NULL,
    grade      text NOT NULL,
    result     text NOT NULL,
    taken_on   date NOT NULL
);
CREATE INDEX known_exam_results_trainee ON known_exam_results (trainee_id);
