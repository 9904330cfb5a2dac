-- Issue 20 item 4: the filings received from employers and supervising organizations, one row per filing (its
-- stream): the implementation-start notice, difficulty notices, annual implementation reports, visit records.
CREATE TABLE employer_filings (
    id                           uuid PRIMARY KEY,
    kind                         text    NOT NULL,
    implementing_organization_id uuid    NOT NULL,
    supervising_organization_id  uuid,
    training_plan_id             uuid,
    fiscal_year                  integer,
    month                        date,
    filed_on                     date    NOT NULL,
    due_on                       date    NOT NULL,
    receipt_number               text,
    document                     jsonb   NOT NULL,
    version                      integer NOT NULL
);
CREATE INDEX employer_filings_employer ON employer_filings (implementing_organization_id, kind);
CREATE INDEX employer_filings_plan ON employer_filings (training_plan_id) WHERE training_plan_id IS NOT NULL;
-- A receipt number names one start notice.
CREATE UNIQUE INDEX employer_filings_receipt ON employer_filings (receipt_number) WHERE kind = 'start_notice';
