-- Issue 20 (DOMAIN §11 "§4 after certification"): the filings of the life of a plan on the worklist
-- (GET /v1/filings, domain/filings.py): implementation-start notices, annual implementation reports, business
-- reports and stage-i visit records, what is owed, what was filed, and the inspections opened from overdue ones.

-- Each certified plan's header as accreditation's plan events last stated it, and the day it ended.
CREATE TABLE filing_plans (
    plan_id                      uuid PRIMARY KEY,
    implementing_organization_id uuid NOT NULL,
    supervising_organization_id  uuid,
    scheme                       text NOT NULL,
    stage                        text,
    start_date                   date NOT NULL,
    end_date                     date NOT NULL,
    certified_on                 date,
    ended_on                     date
);
CREATE INDEX filing_plans_employer ON filing_plans (implementing_organization_id);

-- Who supervised each plan from when: the organization it started under, then each reassignment
-- (TrainingPlanReassigned): a month's visit record is owed by the organization(s) supervising it that month.
CREATE TABLE filing_plan_supervisions (
    plan_id                     uuid NOT NULL,
    from_date                   date NOT NULL,
    supervising_organization_id uuid NOT NULL,
    PRIMARY KEY (plan_id, from_date)
);

-- Each supervising organization's TITP permit: granted, its last day (renewals move it), the day it ended
-- (revoked, or the day after it expired).
CREATE TABLE filing_permits (
    supervising_organization_id uuid PRIMARY KEY,
    granted_on                  date NOT NULL,
    expires_on                  date NOT NULL,
    ended_on                    date
);

-- What is owed (domain/filings.py `Duty`), recomputed for an employer from its plans and for a supervising
-- organization from its permit; the due day is computed when asked, from `basis` and the configured numbers.
CREATE TABLE filing_duties (
    id                           uuid PRIMARY KEY,
    kind                         text NOT NULL,
    implementing_organization_id uuid,
    supervising_organization_id  uuid,
    fiscal_year                  integer,
    month                        date,
    owed_from                    date NOT NULL,
    basis                        date NOT NULL
);
CREATE INDEX filing_duties_employer ON filing_duties (implementing_organization_id);
CREATE INDEX filing_duties_supervising ON filing_duties (supervising_organization_id);

-- The filings received (accreditation's and the registry's filing events), whenever they arrive: `duty_id` is
-- the duty they answer (it may be recorded before the duty is known).
CREATE TABLE filings_received (
    filing_id      uuid PRIMARY KEY,
    duty_id        uuid NOT NULL,
    kind           text NOT NULL,
    filed_on       date NOT NULL,
    receipt_number text
);
CREATE INDEX filings_received_duty ON filings_received (duty_id, filed_on);

-- The extraordinary inspection opened from an overdue filing: once per filing (per report due, for the rolling
-- quarterly audit reports: the next one overdue can lead to another).
CREATE TABLE filing_inspections (
    duty_id       uuid NOT NULL,
    due_on        date NOT NULL,
    inspection_id uuid NOT NULL UNIQUE,
    opened_on     date NOT NULL,
    PRIMARY KEY (duty_id, due_on)
);
