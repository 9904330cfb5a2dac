-- Read models: sending organizations and the sending agreements supervising organizations
-- sign with them, one row per aggregate.
CREATE TABLE sending_organizations (
    id       uuid PRIMARY KEY,
    name     text    NOT NULL,
    country  text    NOT NULL,
    status   text    NOT NULL CHECK (status IN ('approved', 'withdrawn')),
    document jsonb   NOT NULL,
    version  integer NOT NULL
);
CREATE INDEX sending_organizations_country ON sending_organizations (country, id);

CREATE TABLE sending_agreements (
    id                          uuid PRIMARY KEY,
    supervising_organization_id uuid    NOT NULL,
    sending_organization_id     uuid    NOT NULL,
    status                      text    NOT NULL CHECK (status IN ('in_force', 'ended')),
    signed_on                   date    NOT NULL,
    document                    jsonb   NOT NULL,
    version                     integer NOT NULL
);
CREATE INDEX sending_agreements_supervising ON sending_agreements (supervising_organization_id, id);
CREATE INDEX sending_agreements_sending ON sending_agreements (sending_organization_id) WHERE status = 'in_force';
-- At most one agreement in force per pair. The command checks it first (under the sending
-- organization's row lock) and refuses with sending_agreement.already_in_force; this is the backstop.
CREATE UNIQUE INDEX sending_agreements_one_in_force ON sending_agreements (supervising_organization_id, sending_organization_id)
    WHERE status = 'in_force';
