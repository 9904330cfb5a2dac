-- Events the relay could not publish (a non-retriable producer error, e.g. a record over the topic's
-- max.message.bytes), set aside so the rest of the outbox moves on; and the later events of their
-- streams, parked behind them so one stream's order holds. `titp outbox retry` moves them back.
CREATE TABLE outbox_parked (
    position  bigint      PRIMARY KEY REFERENCES events (position),
    stream_id text        NOT NULL,
    error     text        NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX outbox_parked_stream ON outbox_parked (stream_id);
