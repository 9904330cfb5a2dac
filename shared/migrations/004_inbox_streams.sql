-- The last event applied of each stream of another service (shared/consumer.py continue_chain): the next
-- event of the stream must be the next version and carry this hash as its prevhash, or it is dead-lettered.
-- Updated in the transaction that applies the event. A stream not here yet starts at the first event seen of
-- it (version 1 from the genesis hash, or a later one where the consumer joined).
CREATE TABLE inbox_streams (
    source    text     NOT NULL,
    stream_id text     NOT NULL,
    version   integer  NOT NULL CHECK (version >= 0),
    hash      char(64) NOT NULL,
    PRIMARY KEY (source, stream_id)
);
