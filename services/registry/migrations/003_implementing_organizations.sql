-- Read model: implementing organizations, one row per aggregate; the columns beside the
-- document are what lists filter on. Their corporate numbers are held in corporate_numbers.
CREATE TABLE implementing_organizations (
    id                          uuid PRIMARY KEY,
    name                        text    NOT NULL,
    corporate_number            text    NOT NULL,
    prefecture                  text    NOT NULL,
    training_type               text    NOT NULL CHECK (training_type IN ('a', 'b')),
    supervising_organization_id uuid,
    excellent                   boolean NOT NULL,
    document                    jsonb   NOT NULL,
    version                     integer NOT NULL
);
CREATE INDEX implementing_organizations_prefecture ON implementing_organizations (prefecture, id);
CREATE INDEX implementing_organizations_supervising ON implementing_organizations (supervising_organization_id, id);
