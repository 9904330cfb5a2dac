-- Issue 20: an employer may belong to more than one supervising organization (TITP; ESD when configured). Every
-- supervision not ended, per scheme: who may read the employer's record and what the organization filters match.
-- `supervising_organization_id` / `supervision_support_organization_id` stay: the latest begun of each scheme.
ALTER TABLE implementing_organizations ADD COLUMN titp_supervisor_ids uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE implementing_organizations ADD COLUMN esd_supervisor_ids uuid[] NOT NULL DEFAULT '{}';
UPDATE implementing_organizations
   SET titp_supervisor_ids = array_remove(ARRAY[supervising_organization_id], NULL),
       esd_supervisor_ids = array_remove(ARRAY[supervision_support_organization_id], NULL);
CREATE INDEX implementing_organizations_titp_supervisors ON implementing_organizations USING gin (titp_supervisor_ids);
CREATE INDEX implementing_organizations_esd_supervisors ON implementing_organizations USING gin (esd_supervisor_ids);
