-- Corporate numbers in use, across supervising and implementing organizations. Written in
-- the same transaction as the registering event, so that of two concurrent registrations
-- with one number exactly one commits (the other gets the rule corporate_number.unique).
CREATE TABLE corporate_numbers (
    number          text PRIMARY KEY,
    organization_id uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('supervising_organization', 'implementing_organization'))
);
CREATE INDEX corporate_numbers_organization ON corporate_numbers (organization_id);
