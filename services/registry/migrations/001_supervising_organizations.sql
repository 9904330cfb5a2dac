-- Read model: supervising organizations and their permits, one row per aggregate. `state` is
-- the aggregate's state as JSON; the columns beside it are what lists filter on.
CREATE TABLE supervising_organizations (
    id               uuid PRIMARY KEY,
    name             text    NOT NULL,
    corporate_number text    NOT NULL,
    prefecture       text    NOT NULL,
    lifecycle        text    NOT NULL,
    permit_type      text,
    expires_on       date,
    state            jsonb   NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX supervising_organizations_lifecycle ON supervising_organizations (lifecycle, id);
CREATE INDEX supervising_organizations_prefecture ON supervising_organizations (prefecture, id);
CREATE INDEX supervising_organizations_expiry ON supervising_organizations (expires_on) WHERE lifecycle = 'active';
