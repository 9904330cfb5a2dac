-- A permit is in force from the day it was granted.
ALTER TABLE registry_permits ADD COLUMN granted_on date;
