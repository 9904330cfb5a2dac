-- The services connect as titp_app (owns nothing, no superuser: cannot disable the event log's trigger or set
-- session_replication_role); their migrations run as titp_owner, which owns the databases and their tables and
-- grants titp_app what the services do (shared/db.py grant_app_role). `titp` (POSTGRES_USER) is the
-- cluster's superuser, for administration only. Development passwords: compose is not a production setup.
CREATE ROLE titp_owner LOGIN CREATEDB PASSWORD 'titp_owner';
CREATE ROLE titp_app LOGIN PASSWORD 'titp_app';
GRANT pg_read_all_stats TO titp_app;
CREATE DATABASE titp_registry OWNER titp_owner;
CREATE DATABASE titp_accreditation OWNER titp_owner;
CREATE DATABASE titp_inspection OWNER titp_owner;
CREATE DATABASE titp_visa OWNER titp_owner;
