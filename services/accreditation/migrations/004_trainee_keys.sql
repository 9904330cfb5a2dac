-- Each trainee's data key (shared/crypto.py, docs/adr/0002): the trainee's personal data in the
-- events and read models is sealed with it. Erasing a trainee sets data_key to NULL: every copy of
-- their personal data, stored or published, becomes unreadable. The row stays, so an erased
-- trainee is never given a new key.
CREATE TABLE trainee_keys (
    subject_id uuid PRIMARY KEY,
    data_key   bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at  timestamptz,
    CHECK ((data_key IS NULL) = (erased_at IS NOT NULL))
);
