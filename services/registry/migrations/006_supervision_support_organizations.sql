-- Employment for Skill Development (DOMAIN §9). Read model: supervision support organizations and their ESD
-- permits, one row per aggregate; `state` is the aggregate's state as JSON (its audit reports left out), the
-- columns beside it are what lists filter on.
CREATE TABLE supervision_support_organizations (
    id               uuid PRIMARY KEY,
    name             text    NOT NULL,
    corporate_number text    NOT NULL,
    prefecture       text    NOT NULL,
    lifecycle        text    NOT NULL,
    excellent        boolean,
    expires_on       date,
    state            jsonb   NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX supervision_support_organizations_lifecycle ON supervision_support_organizations (lifecycle, id);
CREATE INDEX supervision_support_organizations_prefecture ON supervision_support_organizations (prefecture, id);
CREATE INDEX supervision_support_organizations_number ON supervision_support_organizations (corporate_number);
CREATE INDEX supervision_support_organizations_expiry ON supervision_support_organizations (expires_on)
    WHERE lifecycle = 'active';

-- The quarterly audit reports a supervision support organization files about each employer it supports.
-- One per employer and quarter: the command refuses a second (audit_report.already_filed); this is the backstop.
CREATE TABLE quarterly_audit_reports (
    report_id                          uuid PRIMARY KEY,
    supervision_support_organization_id uuid    NOT NULL,
    implementing_organization_id       uuid    NOT NULL,
    quarter_ending                     date    NOT NULL,
    filed_on                           date    NOT NULL,
    workers                            integer NOT NULL,
    workers_interviewed                integer NOT NULL,
    UNIQUE (implementing_organization_id, quarter_ending, supervision_support_organization_id)
);
CREATE INDEX quarterly_audit_reports_organization
    ON quarterly_audit_reports (supervision_support_organization_id, quarter_ending DESC, report_id DESC);

-- Corporate numbers: unique within each scheme. A cooperative holds a TITP and an ESD permit under one number.
ALTER TABLE corporate_numbers ADD COLUMN scheme text NOT NULL DEFAULT 'titp' CHECK (scheme IN ('titp', 'esd'));
ALTER TABLE corporate_numbers DROP CONSTRAINT corporate_numbers_pkey;
ALTER TABLE corporate_numbers ADD PRIMARY KEY (number, scheme);
ALTER TABLE corporate_numbers DROP CONSTRAINT corporate_numbers_kind_check;
ALTER TABLE corporate_numbers ADD CONSTRAINT corporate_numbers_kind_check
    CHECK (kind IN ('supervising_organization', 'implementing_organization', 'supervision_support_organization'));

-- The public disclosure lists the actions on ESD permits too; each row names its scheme.
ALTER TABLE disclosed_actions ADD COLUMN scheme text NOT NULL DEFAULT 'titp' CHECK (scheme IN ('titp', 'esd'));

-- An implementing organization's supervision support organization under ESD (its TITP supervising
-- organization is `supervising_organization_id`).
ALTER TABLE implementing_organizations ADD COLUMN supervision_support_organization_id uuid;
CREATE INDEX implementing_organizations_supported
    ON implementing_organizations (supervision_support_organization_id, id);

-- Documents written before: their supervision per scheme is the registration's (TITP, type b).
UPDATE implementing_organizations
   SET document = document || jsonb_build_object(
       'supervision', jsonb_build_object(
           'titp', CASE WHEN document->>'supervising_organization_id' IS NULL THEN 'null'::jsonb
                        ELSE jsonb_build_object('organization_id', document->'supervising_organization_id',
                                                'from', document->'registered_on') END,
           'esd', 'null'::jsonb),
       'supervision_history', CASE WHEN document->>'supervising_organization_id' IS NULL THEN '[]'::jsonb
                                   ELSE jsonb_build_array(jsonb_build_object(
                                       'scheme', 'titp',
                                       'organization_id', document->'supervising_organization_id',
                                       'from', document->'registered_on')) END)
 WHERE NOT document ? 'supervision';
