-- Matching under the law: 1:1 verify, 1:N identify (exact, same answer with
-- or without an index), row-level security, withdrawal effective for the
-- very next statement of the same transaction, expiry, purge, erasure,
-- and an audit trail without biometric values.
SELECT gov_world('m');
-- m_crowd shows exact scores and up to 60 subjects (an administrator's
-- choice; the defaults, and what they withhold, are in gov_oracle)
INSERT INTO frt.purpose (name, kind, description, method, retention, serves_public_security,
	similarity_threshold, dimension, max_k, score_disclosure, storage_legal_basis)
VALUES ('m_crowd', 'identification', 'find persons of interest', '1:N at the gates', '30 days', true, 0.5, 8,
	60, 'exact', 'test fixture: a public-security regulation');
SELECT frt.publish_notice('m_crowd', 'Faces at the gates are compared.', '1:N', '30 days', 'public security',
	'write to dpo@acme.example', 'large print and audio at the desk') AS notice;
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('m_crowd', 'dpo', 'PIA crowd');
-- the exhaustive comparisons below identify thousands of subjects: a
-- matcher login with no hourly limit runs them (intrusion detection is
-- tested in intrusion and gov_oracle)
CREATE ROLE m_runner IN ROLE frt_matcher;
SELECT gov_authorize('frt_matcher', 'm');
INSERT INTO frt.intrusion_policy (role_name, identified_per_hour) VALUES ('m_runner', NULL);
-- 60 subjects, deterministic 8-dimensional faces; every 10th has a second face
CREATE FUNCTION gov_face(i int, jitter float8 DEFAULT 0) RETURNS frt.face_embedding
LANGUAGE sql IMMUTABLE AS $$
	SELECT array_agg(sin(i * 7.3 + j * 3.1) + jitter * cos(j * i))::float4[]::frt.face_embedding
	FROM generate_series(1, 8) j
$$;
SELECT count(frt.register_subject('m_c' || i, '1980-01-01')) FROM generate_series(1, 60) i;
SELECT count(frt.give_consent('m_c' || i, 'm_crowd', 'self', 'written')) FROM generate_series(1, 60) i;
SELECT count(frt.enroll('m_c' || i, 'm_crowd', gov_face(i), 'm_hall')) FROM generate_series(1, 60) i;
SELECT count(frt.enroll('m_c' || i, 'm_crowd', gov_face(i, 0.3), 'm_hall')) FROM generate_series(10, 60, 10) i;
-- m_c20 has 40 near-identical faces, so finding 3 distinct subjects near it
-- must read past the first batch of candidates
SELECT count(frt.enroll('m_c20', 'm_crowd', gov_face(20, 0.001 * i), 'm_hall')) FROM generate_series(1, 40) i;

-- 1:1 verification
SELECT frt.enroll('m_s1', 'm_door', '[1,0,0]', 'm_office') > 0 AS s1,
	   frt.enroll('m_s2', 'm_door', '[0,1,0]', 'm_office') > 0 AS s2;
SELECT matched, round(similarity::numeric, 4) AS similarity FROM frt.verify('m_s1', 'm_door', '[0.9,0.1,0]', 'm_office');
SELECT matched, round(similarity::numeric, 4) AS similarity FROM frt.verify('m_s2', 'm_door', '[0.9,0.1,0]', 'm_office');
-- only that subject's faces for that purpose count: m_s1 has none for m_station
SELECT frt.give_consent('m_kid', 'm_station', 'guardian', 'written', 'g') > 0 AS consent;
SELECT matched, similarity FROM frt.verify('m_kid', 'm_door', '[1,0,0]', 'm_office');

-- 1:N: the exhaustive answer, computed directly (as superuser) ...
-- (compared also far below the threshold: no caller may ask below it, so
-- the administrator lowers it for these comparisons)
UPDATE frt.purpose SET similarity_threshold = -1 WHERE name = 'm_crowd';
CREATE FUNCTION gov_exhaustive(probe frt.face_embedding, k int, min_sim float8)
RETURNS TABLE (subject text, similarity float8) LANGUAGE sql SECURITY DEFINER
SET enable_seqscan = on SET enable_sort = on SET enable_indexscan = off SET enable_bitmapscan = on AS $$
	SELECT f.subject, max(frt.cosine_similarity(frt._face_open(f.id, f.embedding), probe)) AS s
	FROM frt.face f JOIN frt.consent c ON c.id = f.consent_id
	WHERE f.purpose = 'm_crowd' AND c.withdrawn_at IS NULL AND NOT c.needs_renotice AND c.separate
	  AND NOT c.condition_of_service AND (NOT f.minor OR c.given_by = 'guardian')
	  AND f.expires_at > now()
	GROUP BY f.subject HAVING max(frt.cosine_similarity(frt._face_open(f.id, f.embedding), probe)) >= min_sim
	ORDER BY s DESC LIMIT k
$$;
-- ... equals frt.identify for several probes, k and thresholds
CREATE FUNCTION gov_identify_matches_exhaustive() RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
	i int; k int; t float8;
BEGIN
	FOR i IN SELECT 20 UNION ALL SELECT generate_series(1, 60, 7) LOOP
		FOREACH k IN ARRAY ARRAY[1, 3, 10] LOOP
			FOREACH t IN ARRAY ARRAY[-1, 0.5, 0.9] LOOP
				IF EXISTS (
					(SELECT * FROM frt.identify('m_crowd', gov_face(i, 0.1), 'm_hall', k, t)
					 EXCEPT SELECT * FROM gov_exhaustive(gov_face(i, 0.1), k, t))
					UNION ALL
					(SELECT * FROM gov_exhaustive(gov_face(i, 0.1), k, t)
					 EXCEPT SELECT * FROM frt.identify('m_crowd', gov_face(i, 0.1), 'm_hall', k, t)))
				THEN
					RAISE NOTICE 'identify differs from exhaustive search: probe %, k %, min %', i, k, t;
					RETURN false;
				END IF;
			END LOOP;
		END LOOP;
	END LOOP;
	RETURN true;
END
$$;
SET SESSION AUTHORIZATION m_runner;
SELECT gov_identify_matches_exhaustive() AS same_without_index;
RESET SESSION AUTHORIZATION;
SELECT subject, round(similarity::numeric, 4) AS similarity
FROM frt.identify('m_crowd', gov_face(20, 0.1), 'm_hall', 3, 0.0);
-- distinct subjects: m_c20 has two faces but is returned once
SELECT count(*) = count(DISTINCT subject) AS distinct_subjects
FROM frt.identify('m_crowd', gov_face(20, 0.1), 'm_hall', 60, -1);
-- with a per-purpose frt_ivf index (when the index layer is present; one
-- index per purpose, since purposes may differ in dimension): the same
-- answers, and the index is what identify's query uses
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_am WHERE amname = 'frt_ivf') THEN
		EXECUTE 'CREATE INDEX gov_face_ivf ON frt.face USING frt_ivf (frt._face_open(id, embedding) frt.face_cosine_ops)
				 WITH (lists = 4) WHERE purpose = ''m_crowd''';
	END IF;
END $$;
-- steer the planner to the index (only when there is one: on a table this
-- small it would rather sort)
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'gov_face_ivf') THEN
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		SET enable_sort = off;
	END IF;
END $$;
SET SESSION AUTHORIZATION m_runner;
SELECT gov_identify_matches_exhaustive() AS same_with_index_if_present;
RESET SESSION AUTHORIZATION;
CREATE FUNCTION gov_plan_uses_index() RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
	line text;
	found bool := false;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'gov_face_ivf') THEN
		RETURN true;	-- no index layer: nothing to use
	END IF;
	FOR line IN EXECUTE format('EXPLAIN SELECT n.subject FROM frt._face_nearest(%L, $1, $2) n LIMIT 16',
		'm_crowd') USING gov_face(3), 2.0::float8
	LOOP
		found := found OR line LIKE '%gov_face_ivf%';
	END LOOP;
	RETURN found;
END
$$;
SELECT gov_plan_uses_index() AS index_used_if_present;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_sort;
SET client_min_messages = warning;
DROP INDEX IF EXISTS frt.gov_face_ivf;
RESET client_min_messages;

-- Withdrawal: effective for the very next statement of the same transaction
BEGIN;
UPDATE frt.purpose SET similarity_threshold = 0.5 WHERE name = 'm_crowd';
SELECT subject FROM frt.identify('m_crowd', gov_face(5), 'm_hall', 1);
SELECT frt.withdraw_consent('m_c5', 'm_crowd') AS faces_queued;
SELECT subject FROM frt.identify('m_crowd', gov_face(5), 'm_hall', 1);
SELECT count(*) FILTER (WHERE subject = 'm_c5') AS m_c5_seen FROM frt.identify('m_crowd', gov_face(5), 'm_hall', 60, 0.5);
SELECT frt.withdraw_consent('m_s1', 'm_door') AS faces_queued;
SELECT gov_try($$SELECT frt.verify('m_s1', 'm_door', '[1,0,0]', 'm_office')$$);
-- RLS: every role sees the withdrawn rows vanish; the owner (superuser) is
-- the documented trusted boundary and still sees them until the purge
SET ROLE frt_admin;
SELECT count(*) AS admin_sees FROM frt.face WHERE subject IN ('m_c5', 'm_s1');
RESET ROLE;
SET ROLE frt_enroller;
SELECT count(*) AS enroller_sees FROM frt.face WHERE subject IN ('m_c5', 'm_s1');
RESET ROLE;
SELECT count(*) AS superuser_sees FROM frt.face WHERE subject IN ('m_c5', 'm_s1');
COMMIT;

-- A REPEATABLE READ snapshot could predate another session's withdrawal:
-- matching refuses to run in one
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT gov_try($$SELECT frt.verify('m_s2', 'm_door', '[0,1,0]', 'm_office')$$);
SELECT gov_try($$SELECT * FROM frt.identify('m_crowd', gov_face(3), 'm_hall')$$);
ROLLBACK;

-- Withdrawal by direct DML (frt_enroller may set withdrawn_at) works the same
SET ROLE frt_enroller;
UPDATE frt.consent SET withdrawn_at = '2000-01-01' WHERE subject = 'm_c6' AND purpose = 'm_crowd';
SELECT withdrawn_at > now() - interval '1 hour' AS true_time_recorded FROM frt.consent
WHERE subject = 'm_c6' AND purpose = 'm_crowd';
SELECT count(*) AS enroller_sees_m_c6 FROM frt.face WHERE subject = 'm_c6';
RESET ROLE;

-- Withdrawal from every purpose at once (purpose NULL)
SELECT frt.give_consent('m_s1', 'm_station', 'self', 'written') > 0 AS consent;
SELECT frt.withdraw_consent('m_s1', NULL) AS faces_queued;
SELECT purpose, withdrawn_at IS NOT NULL AS withdrawn FROM frt.consent WHERE subject = 'm_s1' ORDER BY id;

-- Expiry: a face past retention is invisible at once, before any purge
UPDATE frt.face SET expires_at = enrolled_at + interval '1 microsecond' WHERE subject = 'm_c7';
SET ROLE frt_admin;
SELECT count(*) AS admin_sees_m_c7 FROM frt.face WHERE subject = 'm_c7';
RESET ROLE;
SELECT count(*) FILTER (WHERE subject = 'm_c7') AS m_c7_matched
FROM frt.identify('m_crowd', gov_face(7), 'm_hall', 60, 0.5);

-- Re-notice: consents under an older notice are not matched until renewed
SELECT frt.publish_notice('m_crowd', 'Faces at the gates are compared; kept 30 days.', '1:N', '30 days',
	'public security', 'write to dpo@acme.example', 'large print and audio at the desk') AS notice;
SELECT count(*) AS matched_before_renewal FROM frt.identify('m_crowd', gov_face(8), 'm_hall', 60, 0.5);
SELECT frt.give_consent('m_c' || i, 'm_crowd', 'self', 'written') > 0 AS renewed
FROM generate_series(8, 9) i;
SELECT subject FROM frt.identify('m_crowd', gov_face(8), 'm_hall', 60, 0.5) ORDER BY subject;

-- A consent renewed in a form not valid for processing (not separate, or
-- as a condition of service) stops identification as it stops verification
SELECT frt.give_consent('m_c8', 'm_crowd', 'self', 'written', p_separate => false) > 0 AS bundled;
SELECT frt.give_consent('m_c9', 'm_crowd', 'self', 'written', p_condition_of_service => true) > 0 AS coerced;
SELECT count(*) AS still_matched FROM frt.identify('m_crowd', gov_face(8), 'm_hall', 60, 0.5);

-- The purge path (used by the jobs layer) erases what RLS hides
SELECT frt._face_purge() AS purged;
SELECT count(*) AS left_for_m_c5_m_c6_m_c7_m_s1 FROM frt.face WHERE subject IN ('m_c5', 'm_c6', 'm_c7', 'm_s1');

-- Export with transfer consent, then erasure of the subject
SELECT frt.give_consent('m_s2', 'm_door', 'self', 'written', p_transfer_consent => true) > 0 AS transfer;
SET ROLE frt_admin;
SELECT embedding FROM frt.export_faces('m_s2', 'm_door');
RESET ROLE;
SET ROLE frt_enroller;
SELECT frt.erase_subject('m_s2') AS faces_erased;
RESET ROLE;
SELECT (SELECT count(*) FROM frt.face WHERE subject = 'm_s2') AS faces,
	   (SELECT count(*) FROM frt.consent WHERE subject = 'm_s2') AS consents,
	   (SELECT count(*) FROM frt.subject WHERE id = 'm_s2') AS subjects;
-- the subject's audit trail remains, and holds no embedding or probe
SELECT event, outcome, purpose FROM frt.audit WHERE subject = 'm_s2' ORDER BY seq;
SELECT count(*) AS audit_rows_with_vectors FROM frt.audit
WHERE (purpose LIKE 'm\_%' OR subject LIKE 'm\_%')
  AND (detail::text ~ '\[ *-?[0-9.e]+ *, *-?[0-9.e]+ *, *-?[0-9.e]+' OR detail ? 'embedding' OR detail ? 'probe');
SELECT event, outcome, count(*) FROM frt.audit
WHERE purpose = 'm_crowd' GROUP BY 1, 2 ORDER BY 1, 2;
DELETE FROM frt.intrusion_policy WHERE role_name = 'm_runner';
DROP ROLE m_runner;
