-- ESD (issue 17): the scheme an organization's schedule is under (an employer's turns esd with its first
-- certified ESD plan; a supervision support organization's is esd), and the quarterly audit reports a
-- supervision support organization owes about each employer it supports (GET /v1/filings).
ALTER TABLE organizations ADD COLUMN scheme text NOT NULL DEFAULT 'titp';

-- One row per (support organization, employer): the ESD support, from SupervisionChanged (stream: the
-- employer). `supported_until`: the day another organization took over the employer's ESD support. The end of
-- the organization's permit is `organizations.schedule_ended_on`, read beside it.
CREATE TABLE audit_duties (
    support_organization_id      uuid NOT NULL,
    implementing_organization_id uuid NOT NULL,
    id                           uuid NOT NULL UNIQUE,
    supported_from               date NOT NULL,
    supported_until              date,
    PRIMARY KEY (support_organization_id, implementing_organization_id)
);
CREATE INDEX audit_duties_employer ON audit_duties (implementing_organization_id) WHERE supported_until IS NULL;

-- The reports filed (QuarterlyAuditReportFiled, stream: the support organization), whenever they arrive: the
-- due dates are computed from them for the day asked about.
CREATE TABLE audit_reports (
    report_id                    uuid PRIMARY KEY,
    support_organization_id      uuid NOT NULL,
    implementing_organization_id uuid NOT NULL,
    quarter_ending               date NOT NULL,
    filed_on                     date NOT NULL
);
CREATE INDEX audit_reports_duty ON audit_reports (support_organization_id, implementing_organization_id, filed_on);
