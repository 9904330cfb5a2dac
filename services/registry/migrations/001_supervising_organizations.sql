-- Read model: supervising organizations and their permits, one row per aggregate.
CREATE TABLE supervising_organizations (
    id                    uuid PRIMARY KEY,
    name                  text    NOT NULL,
    corporate_number      text    NOT NULL,
    prefecture            text    NOT NULL,
    status                text    NOT NULL,
    requested_permit_type text    NOT NULL,
    permit_type           text,
    applied_on            date    NOT NULL,
    granted_on            date,
    expires_on            date,
    document              jsonb   NOT NULL,
    version               integer NOT NULL
);
CREATE INDEX supervising_organizations_status ON supervising_organizations (status, id);
CREATE INDEX supervising_organizations_prefecture ON supervising_organizations (prefecture, id);
