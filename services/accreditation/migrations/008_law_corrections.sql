-- Issue 19 (DOMAIN §11): what the corrected rules need.
-- Plans name their operation (作業, a shared.reference code; none on plans applied for before): the field limits
-- count the employer's plans by it, and stage ii/iii continue the stage before's.
ALTER TABLE training_plans ADD COLUMN operation text;
UPDATE training_plans SET operation = document->>'operation' WHERE document ? 'operation';
CREATE INDEX training_plans_revoked ON training_plans (implementing_organization_id, ended_on)
    WHERE status = 'revoked';

-- Type (a): the Ministers recognise the company as stable (the registry's ImplementingOrganizationRegistered
-- and StabilityRecognitionRecorded); organizations learned of before: not recognised.
ALTER TABLE registry_implementing_organizations
    ADD COLUMN stability_recognised       boolean NOT NULL DEFAULT false,
    ADD COLUMN stability_recognised_as_of date;

-- Art. 15 improvement orders on the implementing organization (the employer's stream in this service).
CREATE TABLE employer_improvement_orders (
    order_id                     uuid PRIMARY KEY,
    implementing_organization_id uuid NOT NULL,
    issued_on                    date NOT NULL,
    deadline                     date NOT NULL,
    reason                       text NOT NULL,
    referral_id                  uuid,
    closed_on                    date,
    version                      integer NOT NULL
);
CREATE INDEX employer_improvement_orders_employer ON employer_improvement_orders (implementing_organization_id);
