-- Employment for Skill Development (DOMAIN §9): plans of either scheme side by side.
-- An ESD plan has no stage; it names a field, and a transfer names the plan it continues.
ALTER TABLE training_plans ALTER COLUMN stage DROP NOT NULL;
ALTER TABLE training_plans
    ADD COLUMN scheme          text NOT NULL DEFAULT 'titp',
    ADD COLUMN field           text,
    ADD COLUMN transfer_from   uuid,
    ADD COLUMN transfer_reason text,
    ADD COLUMN applied_on      date;
UPDATE training_plans SET applied_on = (document->>'applied_on')::date;
-- Documents recorded before ESD: TITP plans, with the members every document now has.
UPDATE training_plans
   SET document = document || '{"scheme": "titp", "field": null, "transfer_from": null, "transfer_reason": null,
                                "extension": false, "transfer": null}'::jsonb
 WHERE NOT document ? 'scheme';
CREATE INDEX training_plans_esd_field ON training_plans (field, start_date) WHERE scheme = 'esd';
CREATE INDEX training_plans_esd_employer ON training_plans (implementing_organization_id, start_date)
    WHERE scheme = 'esd';
CREATE INDEX training_plans_transfer_from ON training_plans (transfer_from) WHERE transfer_from IS NOT NULL;

-- The exam results the exam body reported (the trainee's stream, ExamResultRecorded).
CREATE TABLE exam_results (
    trainee_id uuid NOT NULL,
    grade      text NOT NULL,
    result     text NOT NULL,
    taken_on   date NOT NULL,
    PRIMARY KEY (trainee_id, grade, result, taken_on)
);

-- What the registry's topic says of ESD: supervision support permits (a stream of their own, so a row of
-- their own), and which organization supports an employer under ESD from which day.
ALTER TABLE registry_permits
    ADD COLUMN scheme    text NOT NULL DEFAULT 'titp',
    ADD COLUMN excellent boolean;
ALTER TABLE registry_implementing_organizations
    ADD COLUMN esd_supervising_organization_id uuid,
    ADD COLUMN esd_supervised_from             date;
