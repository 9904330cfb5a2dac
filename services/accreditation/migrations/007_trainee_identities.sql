-- Each trainee id is bound to the person its first recorded application named (issue 18): a keyed fingerprint
-- of that identity (name, date of birth, nationality; services/accreditation/domain/trainee.py `identity`),
-- HMAC-SHA256 under a key derived from the trainee's own data key. An application naming the id with another
-- identity is refused. Erasing the trainee deletes the row with the key: nothing derived from their personal
-- data is left. Outside the event log, like trainee_keys (a replay cannot rebuild it).
CREATE TABLE trainee_identities (
    trainee_id  uuid PRIMARY KEY REFERENCES trainee_keys (subject_id),
    fingerprint bytea NOT NULL
);
