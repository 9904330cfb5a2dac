-- What this service knows of the others (GET /v1/status, `titp status`): with each stream's last applied event,
-- its position in its own service's log and when it was applied here. Set by continue_chain in the same upsert;
-- rows written before this migration have none until their stream's next event.
ALTER TABLE inbox_streams
    ADD COLUMN position   bigint,
    ADD COLUMN applied_at timestamptz;
