-- Plans are counted by the prefecture of their implementing organization (the statistics
-- tables themselves are shared: shared/migrations/002_statistics.sql). Organizations learned of
-- before this column existed count under "unknown".
ALTER TABLE registry_implementing_organizations ADD COLUMN prefecture text;
