-- Issue 25 item 2: what each plan's trainee paid before coming, by the plan's latest fee declaration
-- (projections/fees.py), for GET /v1/statistics/fees and its worklist of flagged sending organizations.
-- One row per plan with a declaration; `country`: the sending organization's (the registry's view), or the
-- trainee's nationality when the plan names none (type a). `start_month`: the month the plan starts.
CREATE TABLE plan_fees (
    training_plan_id        uuid    PRIMARY KEY,
    scheme                  text    NOT NULL CHECK (scheme IN ('titp', 'esd')),
    status                  text    NOT NULL,
    sending_organization_id uuid,
    country                 text    NOT NULL,
    start_month             date    NOT NULL,
    declared_on             date    NOT NULL,
    total_yen               bigint  NOT NULL,
    borrowed_yen            bigint,
    employer_share_yen      bigint,
    ceiling_yen             bigint  NOT NULL,
    above_ceiling           boolean NOT NULL,
    flagged_on              date
);
CREATE INDEX plan_fees_start_month ON plan_fees (start_month);
CREATE INDEX plan_fees_flagged ON plan_fees (sending_organization_id) WHERE flagged_on IS NOT NULL;
