-- Issue 20 (DOMAIN §7): trainees' consultations, one row per consultation (ConsultationRecorded, stream: its
-- id). `state` is the aggregate's state as JSON; the columns beside it are what GET /v1/consultations filters
-- and orders on. Only OTIT and auditors read this table's data: no organization sees a consultation.
CREATE TABLE consultations (
    id                           uuid PRIMARY KEY,
    received_on                  date    NOT NULL,
    language                     text    NOT NULL,
    channel                      text    NOT NULL,
    subject                      text    NOT NULL,
    status                       text    NOT NULL,
    trainee_id                   uuid,
    training_plan_id             uuid,
    implementing_organization_id uuid,
    supervising_organization_id  uuid,
    inspection_id                uuid,  -- the extraordinary inspection opened from it, if any
    state                        jsonb   NOT NULL,
    version                      integer NOT NULL
);
CREATE INDEX consultations_received ON consultations (received_on, id);
CREATE INDEX consultations_implementing ON consultations (implementing_organization_id, received_on);
CREATE INDEX consultations_supervising ON consultations (supervising_organization_id, received_on);
CREATE INDEX consultations_open ON consultations (received_on, id) WHERE status <> 'closed';
