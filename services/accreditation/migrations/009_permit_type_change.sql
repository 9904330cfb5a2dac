-- Issue 19: the registry's Art. 32 change of business category (PermitTypeChanged, specified -> general). The day
-- the permit's type was last decided (granted, changed, downgraded), so a change older than what is known changes
-- nothing; permits learned of before: unknown (the next change applies).
ALTER TABLE registry_permits ADD COLUMN permit_type_as_of date;
