-- The event store: the service's truth, append-only.
--
-- position = (transaction id << 20) + index within the transaction. A transaction that is
-- still running holds an id >= pg_snapshot_xmin(pg_current_snapshot()), so every position
-- below (xmin << 20) is final: readers that stop there never skip an event that commits
-- late, and appends need no table-wide lock (see docs/adr/0001-gap-free-positions.md).
CREATE TABLE events (
    position      bigint PRIMARY KEY,
    stream_id     text        NOT NULL,
    version       integer     NOT NULL CHECK (version > 0),
    id            uuid        NOT NULL UNIQUE,
    type          text        NOT NULL,
    time          timestamptz NOT NULL,
    data          jsonb       NOT NULL,
    actor         text,
    correlationid text,
    causationid   text,
    traceparent   text,
    prevhash      char(64)    NOT NULL,
    hash          char(64)    NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);
CREATE INDEX events_time ON events (time);

CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

-- Committed events not yet on Kafka; the relay deletes a row once the broker acknowledged it.
CREATE TABLE outbox (
    position bigint PRIMARY KEY REFERENCES events (position)
);

-- Events of other services already applied here (deduplication by CloudEvents id).
CREATE TABLE inbox (
    event_id    uuid PRIMARY KEY,
    source      text        NOT NULL,
    type        text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Responses to commands sent with an Idempotency-Key, kept with a hash of the request.
CREATE TABLE idempotency_keys (
    key          text PRIMARY KEY,
    request_hash text        NOT NULL,
    status       integer     NOT NULL,
    headers      jsonb       NOT NULL,
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
