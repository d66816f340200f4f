-- Every call on record: each rejected call, bad input included, leaves an
-- audit record with its reason; the audit bounds (never refuses) the
-- identifiers it is given; a matcher cannot tell why a subject cannot be
-- verified, the auditor can.
SELECT gov_world('o');
SELECT frt.enroll('o_s1', 'o_door', '[1,0,0]', 'o_office') > 0 AS enrolled;
SELECT frt.enroll('o_kid', 'o_door', '[0,1,0]', 'o_office') > 0 AS enrolled;
CREATE FUNCTION pg_temp.last_record(f text)
RETURNS TABLE (event text, outcome text, sqlstate text, reason text)
LANGUAGE sql AS $$
	SELECT a.event, a.outcome, a.sqlstate, a.detail->>'reason' FROM frt.audit a
	 WHERE a.detail->>'function' = f ORDER BY a.seq DESC LIMIT 1
$$;

-- Bad input: the error keeps its standard SQLSTATE, and the audit trail has
-- the rejected call with its reason.
SELECT gov_try($$SELECT frt.verify(NULL, 'o_door', '[1,0,0]', 'o_office')$$);
SELECT * FROM pg_temp.last_record('verify');
SELECT gov_try($$SELECT frt.enroll('o_s1', NULL, '[1,0,0]', 'o_office')$$);
SELECT * FROM pg_temp.last_record('enroll');
SELECT gov_try($$SELECT frt.enroll('o_s1', 'o_door', '[1,0,0]', 'o_office', '-1 day')$$);
SELECT * FROM pg_temp.last_record('enroll');
SELECT gov_try($$SELECT frt.enroll('o_s1', 'o_door', NULL, 'o_office')$$);
SELECT * FROM pg_temp.last_record('check_probe');
SELECT gov_try($$SELECT frt.verify('o_s1', 'o_door', '[1,0,0,0]', 'o_office')$$);
SELECT * FROM pg_temp.last_record('check_probe');
SELECT gov_try($$SELECT * FROM frt.identify(NULL, '[1,0,0]', 'o_hall')$$);
SELECT * FROM pg_temp.last_record('identify');
SELECT gov_try($$SELECT * FROM frt.identify('o_station', '[1,0,0]', 'o_hall', 0)$$);
SELECT * FROM pg_temp.last_record('identify');
SELECT gov_try($$SELECT * FROM frt.identify('o_station', '[1,0,0]', 'o_hall', 1, 2.0)$$);
SELECT * FROM pg_temp.last_record('identify');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT gov_try($$SELECT * FROM frt.export_faces('o_s1', 'o_door')$$);
ROLLBACK;
SELECT * FROM pg_temp.last_record('export_faces');
SELECT gov_try($$SELECT frt.give_consent('o_nobody', 'o_door', 'self', 'written')$$);
SELECT * FROM pg_temp.last_record('give_consent');
SELECT gov_try($$SELECT frt.give_consent('o_s1', 'o_door', 'myself', 'written')$$);
SELECT * FROM pg_temp.last_record('give_consent');
SELECT gov_try($$SELECT frt.withdraw_consent('o_nobody', 'o_door')$$);
SELECT * FROM pg_temp.last_record('withdraw_consent');
SELECT gov_try($$SELECT frt.register_subject('o_s1', '1990-01-01')$$);
SELECT * FROM pg_temp.last_record('register_subject');
SELECT gov_try($$SELECT frt.register_subject(NULL, '1990-01-01')$$);
SELECT * FROM pg_temp.last_record('register_subject');
SELECT gov_try($$SELECT frt.erase_subject('o_nobody')$$);
SELECT * FROM pg_temp.last_record('erase_subject');
SELECT gov_try($$SELECT frt.record_decline('o_nope')$$);
SELECT * FROM pg_temp.last_record('record_decline');
SELECT gov_try($$SELECT frt.void_assessment('o_door', NULL)$$);
SELECT * FROM pg_temp.last_record('void_assessment');

-- Identifiers the audit would not keep as they are: recorded, bounded.  An
-- over-long one keeps its head and the hash of the whole; a vector-like
-- one becomes a marker and its hash.
SELECT gov_try(format($$SELECT frt.enroll(%L, 'o_door', '[1,0,0]', 'o_office')$$, repeat('x', 300)));
SELECT length(subject) <= 256 AS bounded, left(subject, 10) AS head,
	   subject ~ '\.\.\.truncated sha256:[0-9a-f]{16}$' AS hashed,
	   substring(subject FROM 'sha256:(.*)$') = left(encode(sha256(convert_to(repeat('x', 300), 'UTF8')), 'hex'), 16)
		 AS hash_of_the_whole,
	   detail->>'audit_bounded' AS bounded_detail
  FROM frt.audit WHERE event = 'refusal' ORDER BY seq DESC LIMIT 1;
SELECT gov_try($$SELECT frt.verify('o_s1', 'o_door', '[1,0,0]', '0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0,1.1,1.2,1.3,1.4,1.5,1.6,1.7')$$);
SELECT device, detail->>'audit_bounded' AS bounded_detail, detail->>'function' AS function
  FROM frt.audit WHERE event = 'refusal' ORDER BY seq DESC LIMIT 1;
SELECT gov_try(format($$SELECT frt.enroll('o_s1', %L, '[1,0,0]', 'o_office')$$, repeat('purpose ', 40)));
SELECT length(purpose) <= 256 AS bounded, purpose ~ 'sha256:[0-9a-f]{16}$' AS hashed
  FROM frt.audit WHERE event = 'refusal' ORDER BY seq DESC LIMIT 1;
-- a caller's detail: an embedding-like value is hashed, the rest kept
SELECT frt.audit_event('test', 'ok', NULL, NULL, NULL, NULL, NULL,
	jsonb_build_object('note', 'kept', 'probe', '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0,1.1,1.2,1.3,1.4,1.5,1.6,1.7]')) > 0
	AS recorded;
SELECT detail->>'note' AS note, detail->>'probe' ~ '^vector sha256:[0-9a-f]{16}$' AS probe_hashed,
	   detail->>'audit_bounded' AS bounded
  FROM frt.audit WHERE event = 'test' ORDER BY seq DESC LIMIT 1;
-- a similarity that is not a number is recorded as missing, and said so
SELECT frt.audit_event('test', 'nan', NULL, NULL, NULL, 'NaN', NULL, NULL) > 0 AS recorded;
SELECT similarity, detail FROM frt.audit WHERE event = 'test' ORDER BY seq DESC LIMIT 1;

-- The four states of a subject a matcher cannot verify, and a subject with
-- no active face: one error for the matcher; four (five) reasons on record.
SELECT frt.register_subject('o_new', '1980-01-01');          -- no consent
SELECT frt.register_subject('o_old', '1970-01-01');
SELECT frt.give_consent('o_old', 'o_door', 'self', 'written') > 0 AS consent;
SELECT frt.register_subject('o_noface', '1975-01-01');
SELECT frt.give_consent('o_noface', 'o_door', 'self', 'written') > 0 AS consent;
SELECT frt.publish_notice('o_door', 'changed', 'm', 'r', 'i', 'rights', 'large print and audio at the desk') AS new_notice;
SELECT frt.give_consent('o_noface', 'o_door', 'self', 'written') > 0 AS renewed;
SELECT frt.register_subject('o_child', (CURRENT_DATE - interval '9 years')::date);
SELECT frt.give_consent('o_child', 'o_door', 'self', 'written') > 0 AS child_self_consent;
CREATE ROLE o_gate LOGIN IN ROLE frt_matcher;
SET ROLE o_gate;
SELECT s AS state, gov_try(format($$SELECT frt.verify(%L, 'o_door', '[1,0,0]', 'o_office')$$, s)) AS matcher_sees
  FROM unnest(ARRAY['o_ghost', 'o_new', 'o_child', 'o_old', 'o_noface']) s;
RESET ROLE;
SET ROLE frt_auditor;
SELECT subject, sqlstate, detail->>'reason' AS auditor_sees, detail->>'masked' AS masked
  FROM frt.audit WHERE event = 'refusal' AND detail->>'function' = 'verify'
   AND (detail->>'masked')::bool ORDER BY seq;
RESET ROLE;
-- an administrator (here the superuser) gets the precise error
SELECT gov_try($$SELECT frt.verify('o_child', 'o_door', '[1,0,0]', 'o_office')$$);
SELECT (frt.verify('o_noface', 'o_door', '[1,0,0]', 'o_office')).similarity IS NULL AS no_face_for_admin;
DROP ROLE o_gate;
