-- What a match discloses (Art. 14): a purpose's max_k and score_disclosure,
-- no min_similarity below its threshold, and the per-role limit on subjects
-- identified, which holds within one call.  Each refusal with its SQLSTATE,
-- audited, changing nothing.  (The reconstruction attack, concurrency and
-- rollback: test/t/057_oracle.pl.)
SELECT gov_world('q');
SELECT frt.enroll('q_s1', 'q_door', '[1,0,0]', 'q_office') > 0 AS s1_door,
	   frt.enroll('q_s2', 'q_door', '[0,1,0]', 'q_office') > 0 AS s2_door,
	   frt.enroll('q_s1', 'q_station', '[1,0,0]', 'q_hall') > 0 AS s1_station,
	   frt.enroll('q_s2', 'q_station', '[0.8,0.6,0]', 'q_hall') > 0 AS s2_station;
DROP ROLE IF EXISTS q_gate;
CREATE ROLE q_gate IN ROLE frt_matcher;
-- gov_refused for a matcher: the state fingerprint is read as the owner
CREATE FUNCTION q_state() RETURNS text LANGUAGE sql SECURITY DEFINER AS 'SELECT gov_state()';
CREATE FUNCTION q_refused(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	before text := q_state();
	r text := gov_try(q);
BEGIN
	RETURN r || CASE WHEN q_state() = before THEN ' [nothing changed]' ELSE ' [CHANGED]' END;
END
$$;

-- the defaults of a new purpose: at most 10 subjects, scores rounded
SELECT name, similarity_threshold, max_k, score_disclosure FROM frt.purpose
 WHERE name LIKE 'q\_%' ORDER BY name;
SELECT frt._identify_k_ceiling() AS k_ceiling, frt._identify_k_default() AS k_default,
	   frt._score_step('rounded') AS rounded_step, frt._score_step('banded') AS banded_step,
	   frt._score_step('exact') AS exact_step;

-- 1. Bad k and min_similarity, as a matcher: refused (MF142) or rejected
-- (bad input), each on record, nothing changed
SET SESSION AUTHORIZATION q_gate;
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', NULL)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 0)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', -5)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 11)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 1000)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 2147483647)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 1, 0.599)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 1, -1)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 10, -1)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 1, 'NaN')$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 1, 1.5)$$);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 1, '-Infinity')$$);
SELECT q_refused($$SELECT frt.identify('q_station', NULL, 'q_hall', 1)$$);
SELECT q_refused($$SELECT frt.identify(NULL, '[1,0,0]', 'q_hall', 1)$$);
-- at the bounds: k = max_k, min_similarity = the threshold, or NULL (= it)
SELECT count(*) AS at_max_k FROM frt.identify('q_station', '[1,0,0]', 'q_hall', 10);
SELECT count(*) AS at_threshold FROM frt.identify('q_station', '[1,0,0]', 'q_hall', 2, 0.6);
SELECT count(*) AS null_floor FROM frt.identify('q_station', '[1,0,0]', 'q_hall', 2, NULL);
RESET SESSION AUTHORIZATION;
SELECT sqlstate, detail->>'reason' AS reason FROM frt.audit
 WHERE role_name = 'q_gate' AND event IN ('refusal', 'rejected') ORDER BY seq;

-- 2. max_k has a hard ceiling; score_disclosure one of four modes
SELECT gov_try($$UPDATE frt.purpose SET max_k = 1001 WHERE name = 'q_station'$$);
SELECT gov_try($$UPDATE frt.purpose SET max_k = 0 WHERE name = 'q_station'$$);
SELECT gov_try($$UPDATE frt.purpose SET max_k = NULL WHERE name = 'q_station'$$);
SELECT gov_try($$UPDATE frt.purpose SET score_disclosure = 'fuzzy' WHERE name = 'q_station'$$);
SELECT gov_try($$UPDATE frt.purpose SET score_disclosure = NULL WHERE name = 'q_station'$$);
-- a change of the bounds is a registry change on record; it does not void
-- the assessment
UPDATE frt.purpose SET max_k = 1000 WHERE name = 'q_station';
SELECT frt.has_current_assessment('q_station') AS assessment_current;
SELECT event, outcome, detail->>'table' AS "table" FROM frt.audit
 WHERE event = 'registry' AND purpose = 'q_station' ORDER BY seq DESC LIMIT 1;
UPDATE frt.purpose SET max_k = DEFAULT WHERE name = 'q_station';

-- 3. Scores as the purpose discloses them.  q_s1: cosine 0.99388 with
-- [0.9,0.1,0]; q_s2: 0.11043 (below the threshold 0.6).
CREATE FUNCTION q_scores() RETURNS TABLE (mode text, s1_verify float8, s2_verify float8,
	s2_matched bool, identify_scores float8[])
LANGUAGE plpgsql AS $$
BEGIN
	FOREACH mode IN ARRAY ARRAY['exact', 'rounded', 'banded', 'none'] LOOP
		RESET SESSION AUTHORIZATION;
		UPDATE frt.purpose SET score_disclosure = mode WHERE name IN ('q_door', 'q_station');
		SET SESSION AUTHORIZATION q_gate;
		s1_verify := (frt.verify('q_s1', 'q_door', '[0.9,0.1,0]', 'q_office')).similarity;
		SELECT v.matched, v.similarity INTO s2_matched, s2_verify
		  FROM frt.verify('q_s2', 'q_door', '[0.9,0.1,0]', 'q_office') v;
		SELECT array_agg(i.similarity ORDER BY i.similarity DESC) INTO identify_scores
		  FROM frt.identify('q_station', '[0.9,0.1,0]', 'q_hall', 2) i;
		RETURN NEXT;
	END LOOP;
	RESET SESSION AUTHORIZATION;
END
$$;
SELECT mode, round(s1_verify::numeric, 5) AS s1_verify, round(s2_verify::numeric, 5) AS s2_verify,
	   s2_matched, identify_scores::numeric(8,5)[] AS identify_scores
  FROM q_scores();
UPDATE frt.purpose SET score_disclosure = DEFAULT WHERE name IN ('q_door', 'q_station');
-- the record keeps the exact score (for the auditor), and which mode applied
SELECT outcome, round(similarity::numeric, 5) AS similarity, detail->>'disclosure' AS disclosure
  FROM frt.audit WHERE role_name = 'q_gate' AND event = 'match' AND subject = 'q_s1' ORDER BY seq;
-- a floored score never drops below the threshold, nor shows above the real one
SELECT frt._disclose(p, 0.607) AS just_above, frt._disclose(p, 0.6999999) AS floored,
	   frt._disclose(p, 0.70) AS on_step, frt._disclose(p, 0.6049) AS below_threshold,
	   frt._disclose(p, NULL) AS no_score
  FROM (SELECT jsonb_populate_record(NULL::frt.purpose,
				   to_jsonb(q) || '{"similarity_threshold": 0.605}') AS p
		  FROM frt.purpose q WHERE name = 'q_door') z;

-- 4. Subjects identified per role and hour: on by default (1000), and it
-- holds within one call.  q_enum may receive 3 an hour; 6 subjects are
-- near the probe: a call asking for 10 returns 3 (alert, 3 withheld), the
-- next is refused.
SELECT identified_per_hour FROM frt._intrusion_limits('nobody in particular');
SELECT count(frt.register_subject('q_c' || i, '1980-01-01')) AS registered,
	   count(frt.give_consent('q_c' || i, 'q_station', 'self', 'written')) AS consents,
	   count(frt.enroll('q_c' || i, 'q_station', ARRAY[1, 0.01 * i, 0]::float4[]::frt.face_embedding, 'q_hall')) AS faces
  FROM generate_series(1, 4) i;
DROP ROLE IF EXISTS q_enum;
CREATE ROLE q_enum IN ROLE frt_matcher;
INSERT INTO frt.intrusion_policy (role_name, identified_per_hour) VALUES ('q_enum', 3);
SET SESSION AUTHORIZATION q_enum;
SELECT count(*) AS returned FROM frt.identify('q_station', '[1,0,0]', 'q_hall', 10);
SELECT q_refused($$SELECT frt.identify('q_station', '[1,0,0]', 'q_hall', 1)$$);
RESET SESSION AUTHORIZATION;
SELECT jsonb_array_length(detail->'subjects') AS recorded_subjects, detail->>'withheld' AS withheld
  FROM frt.audit WHERE role_name = 'q_enum' AND event = 'match' ORDER BY seq;
SELECT kind, role_name, detail FROM frt.alert WHERE role_name = 'q_enum';
SELECT sum(subjects) AS counted FROM frt.intrusion_counter WHERE role_name = 'q_enum';

-- leave no limits and no roles behind
DELETE FROM frt.intrusion_policy WHERE role_name = 'q_enum';
DROP FUNCTION q_scores();
DROP FUNCTION q_refused(text);
DROP FUNCTION q_state();
DROP ROLE q_gate;
DROP ROLE q_enum;
