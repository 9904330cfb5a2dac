-- What this service knows of the registry, built only from the events on titp.registry.v1:
-- the permits of supervising organizations, implementing organizations, sending
-- organizations and their agreements. Never read from the registry's database.
CREATE TABLE registry_permits (
    supervising_organization_id uuid PRIMARY KEY,
    status                      text  NOT NULL,
    permit_type                 text,
    expires_on                  date,
    revoked_on                  date,
    suspensions                 jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE registry_implementing_organizations (
    id                          uuid PRIMARY KEY,
    training_type               text    NOT NULL,
    supervising_organization_id uuid,
    full_time_staff             integer NOT NULL,
    staff_as_of                 date    NOT NULL,
    excellent                   boolean NOT NULL,
    excellent_as_of             date    NOT NULL
);

CREATE TABLE registry_sending_organizations (
    id       uuid PRIMARY KEY,
    country  text    NOT NULL,
    approved boolean NOT NULL
);

CREATE TABLE registry_sending_agreements (
    id                          uuid PRIMARY KEY,
    supervising_organization_id uuid NOT NULL,
    sending_organization_id     uuid NOT NULL,
    signed_on                   date NOT NULL,
    ended_on                    date
);
CREATE INDEX registry_sending_agreements_parties
    ON registry_sending_agreements (supervising_organization_id, sending_organization_id);
