-- Issue 20: the day the registry's SupervisionChanged (TITP) puts an employer under its supervising organization,
-- which a reassignment after a revocation or expiry is checked against; NULL: since its registration.
ALTER TABLE registry_implementing_organizations ADD COLUMN supervised_from date;
