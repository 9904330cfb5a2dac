-- Statistics read models (shared/statistics.py): counters kept by projections in the same
-- transaction as the events they count.
--
-- statistics_facts: what each entity (a plan, an inspection) counts in now, as the facts its
-- service derives the counted keys from (JSON null: nothing); the next change is recorded as the
-- difference.
CREATE TABLE statistics_facts (
    entity text  PRIMARY KEY,
    facts  jsonb NOT NULL
);

-- Changes to the counters, only ever inserted, so that concurrent commands never wait on a
-- shared counter row. A chore folds them into `statistics`; readers add those not folded yet.
CREATE TABLE statistics_deltas (
    measure    text    NOT NULL,
    period     date    NOT NULL,
    dimensions text[]  NOT NULL,
    change     integer NOT NULL
);
CREATE INDEX statistics_deltas_measure ON statistics_deltas (measure, period);

-- The counters: one row per measure, period (a day, or the first day of a month, quarter or
-- fiscal year) and combination of dimension values.
CREATE TABLE statistics (
    measure    text   NOT NULL,
    period     date   NOT NULL,
    dimensions text[] NOT NULL,
    count      bigint NOT NULL,
    PRIMARY KEY (measure, period, dimensions)
);
