-- pgbench script: the statements one registry permit application (POST /v1/supervising-organizations) sends, in
-- its transaction, as PostgreSQL logged them (log_statement = all on a bench database, December 2026): the stream
-- read once with the position base (EventStore.open_stream; the check that the id names no ESD record and the
-- decision share it), the revocations of the last 5 years (Art. 26), the event with its outbox row in one statement
-- (no pg_notify: the command wakes its own process's relay), the corporate number's advisory lock, then its check
-- and claim in one statement, and the read model's row. Parameters are pgbench variables, run with -M prepared
-- (asyncpg prepares every statement too); each transaction a new stream and corporate number. The relay's own
-- statements (reading the outbox and deleting what it sent, one statement a batch) are left out. Run against a
-- database migrated like the registry's (bench/over_http.py).
\set n random(1, 999999999999)
BEGIN;
SELECT e.*, pg_current_xact_id()::text::bigint << 20 AS base, clock_timestamp() AS now
  FROM (SELECT) AS one
  LEFT JOIN LATERAL (SELECT position, stream_id, version, id, type, time, data, actor, correlationid, causationid,
                            traceparent, prevhash, hash
                       FROM events WHERE stream_id = md5('pgb' || :n)::uuid::text) e ON true
 ORDER BY e.version;
SELECT id, corporate_number, (state->'revocation'->>'revoked_on')::date AS revoked_on,
       coalesce(state->'application'->'officers', '[]'::jsonb) AS officers
  FROM supervising_organizations
 WHERE lifecycle = 'revoked' AND (state->'revocation'->>'revoked_on')::date >= current_date - 1826;
WITH appended AS (
    INSERT INTO events (position, stream_id, version, id, type, time, data, actor, correlationid, causationid,
                        traceparent, prevhash, hash)
    SELECT * FROM unnest(ARRAY[(pg_current_xact_id()::text::bigint << 20) + 1], ARRAY[md5('pgb' || :n)::uuid::text],
                         ARRAY[1], ARRAY[gen_random_uuid()], ARRAY['titp.registry.PermitApplied.v1'],
                         ARRAY[clock_timestamp()],
                         ARRAY[('{"applied_on": "2026-04-01", "application": {"name": "Sakura Cooperative", "address": "1-2-3 Chiyoda, Tokyo", "officers": [{"name": "Yamada Taro", "address": "737212-1 Kanda, Chiyoda-ku, Tokyo", "position": "representative director"}], "prefecture": "13", "job_categories": ["construction"], "representative": "Yamada Taro", "corporate_number": "3569202603210", "external_auditor": "Tanaka Law Office", "supervising_offices": [{"name": "Head office", "address": "1-2-3 Chiyoda, Tokyo", "supervision_manager": "Suzuki Hanako"}], "requested_permit_type": "general"}}')::jsonb],
                         ARRAY['bench-officer'], ARRAY[gen_random_uuid()::text], ARRAY[NULL::text],
                         ARRAY['00-67b20d440b4e2723950ef2db284e5fb5-5d969bf953c53b3e-03'], ARRAY[repeat('0', 64)],
                         ARRAY[md5('h' || :n) || md5('pgb' || :n)])
    RETURNING position)
, published AS (INSERT INTO outbox (position) SELECT position FROM appended)
SELECT count(*) FROM appended;
SELECT pg_advisory_xact_lock(hashtextextended(lpad(:n::text, 13, '0'), 1));
WITH holder AS (
    SELECT organization_id FROM corporate_numbers
     WHERE number = lpad(:n::text, 13, '0') AND organization_id <> md5('pgb' || :n)::uuid
       AND (scheme = 'titp' OR kind = 'implementing_organization' OR 'supervising_organization' = 'implementing_organization')
     LIMIT 1)
, claimed AS (
    INSERT INTO corporate_numbers (number, organization_id, kind, scheme)
    SELECT lpad(:n::text, 13, '0'), md5('pgb' || :n)::uuid, 'supervising_organization', 'titp'
     WHERE NOT EXISTS (SELECT FROM holder)
        ON CONFLICT (number, scheme) DO NOTHING)
SELECT organization_id FROM holder;
INSERT INTO supervising_organizations (id, name, corporate_number, prefecture, lifecycle, permit_type, expires_on,
                                       state, version)
VALUES (md5('pgb' || :n)::uuid, 'Sakura Cooperative', lpad(:n::text, 13, '0'), '13', 'applied', NULL, NULL,
        '{"renewals": 0, "lifecycle": "applied", "applied_on": "2026-04-01", "expired_on": null, "expires_on": null, "granted_on": null, "revocation": null, "valid_from": null, "application": {"name": "Sakura Cooperative", "address": "1-2-3 Chiyoda, Tokyo", "officers": [{"name": "Yamada Taro", "address": "737212-1 Kanda, Chiyoda-ku, Tokyo", "position": "representative director"}], "prefecture": "13", "job_categories": ["construction"], "representative": "Yamada Taro", "corporate_number": "3569202603210", "external_auditor": "Tanaka Law Office", "supervising_offices": [{"name": "Head office", "address": "1-2-3 Chiyoda, Tokyo", "supervision_manager": "Suzuki Hanako"}], "requested_permit_type": "general"}, "permit_type": null, "suspensions": [], "type_change": null, "denial_reason": null, "downgraded_on": null, "business_reports": [], "improvement_orders": [], "downgrade_legal_basis": null, "meets_excellence_standard": null}'::jsonb, 1)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, corporate_number = excluded.corporate_number,
        prefecture = excluded.prefecture, lifecycle = excluded.lifecycle, permit_type = excluded.permit_type,
        expires_on = excluded.expires_on, state = excluded.state, version = excluded.version;
COMMIT;
