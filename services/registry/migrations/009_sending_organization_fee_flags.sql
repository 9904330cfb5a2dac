-- Issue 25 item 2: accreditation flags a sending organization when a plan's trainee paid more than the ceiling
-- before coming (`SendingOrganizationFeesFlagged` on titp.accreditation.v1). The registry keeps each flag (one per
-- plan) beside its sending organizations: GET /v1/sending-organizations?flagged=true and .../{id}/fee-flags.
-- Written by the subscription (projections/fee_flags.py); the number 012 leaves room for other parts of issue 25.
CREATE TABLE sending_organization_fee_flags (
    sending_organization_id uuid    NOT NULL,
    training_plan_id        uuid    NOT NULL,
    flagged_on              date    NOT NULL,
    total_yen               bigint  NOT NULL,
    ceiling_yen             bigint  NOT NULL,
    PRIMARY KEY (sending_organization_id, training_plan_id)
);
