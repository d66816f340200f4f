-- Attack (Art. 6, 7, 14): a matcher must not tell an unknown subject from
-- an unconsented, under-14 (no guardian), re-notice or faceless one.  The
-- message is the same; the error's context (what a client shows as CONTEXT,
-- or GET STACKED DIAGNOSTICS PG_EXCEPTION_CONTEXT in the matcher's own
-- PL/pgSQL) must be the same too: it used to name the failing check, with
-- its SQL text and line number.
SELECT gov_world('xm');
SELECT frt.enroll('xm_s1', 'xm_door', '[1,0,0]', 'xm_office') > 0 AS s1_enrolled;
SELECT frt.register_subject('xm_unc', '1990-01-01') AS unconsented;
SELECT frt.register_subject('xm_ren', '1990-01-01') AS renotice;
SELECT frt.give_consent('xm_ren', 'xm_door', 'self', 'written') > 0 AS ren_consent;
SELECT frt.publish_notice('xm_door', 'We compare your face at the door (v2).', '1:1 comparison',
	'kept 1 year', 'replaces keys; low impact', 'write to dpo@acme.example', 'large print and audio at the desk') AS notice_v2;
SELECT frt.give_consent('xm_s1', 'xm_door', 'self', 'written') > 0 AS s1_renewed;
SELECT frt.register_subject('xm_child', (CURRENT_DATE - interval '8 years')::date) AS child;
SELECT frt.give_consent('xm_child', 'xm_door', 'self', 'written') > 0 AS child_self_consent;
SELECT frt.register_subject('xm_noface', '1990-01-01') AS noface;
SELECT frt.give_consent('xm_noface', 'xm_door', 'self', 'written') > 0 AS noface_consent;
SET client_min_messages = warning;
DROP ROLE IF EXISTS xm_gate;
RESET client_min_messages;
CREATE ROLE xm_gate IN ROLE frt_matcher;
-- everything a caller can read of the error, the subject's name taken out
CREATE FUNCTION xm_error(p_subject text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; det text; hnt text; ctx text; con text;
BEGIN
	PERFORM frt.verify(p_subject, 'xm_door', '[1,0,0]', 'xm_office');
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
		hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT, con = CONSTRAINT_NAME;
	RETURN replace(concat_ws(' | ', st, msg, det, hnt, con,
		-- the frame of this test function itself is the caller's own
		regexp_replace(ctx, E'\\n?PL/pgSQL function xm_error\\(text\\) line [0-9]+ at PERFORM$', '')),
		p_subject, 'S');
END
$$;
GRANT EXECUTE ON FUNCTION xm_error(text) TO xm_gate;
SET SESSION AUTHORIZATION xm_gate;
SELECT s AS subject, xm_error(s) AS what_the_matcher_sees
  FROM unnest(ARRAY['xm_nobody', 'xm_unc', 'xm_child', 'xm_ren', 'xm_noface']) s;
SELECT count(DISTINCT xm_error(s)) AS distinguishable_errors
  FROM unnest(ARRAY['xm_nobody', 'xm_unc', 'xm_child', 'xm_ren', 'xm_noface']) s;
-- the real subject still verifies
SELECT matched FROM frt.verify('xm_s1', 'xm_door', '[1,0,0]', 'xm_office');
RESET SESSION AUTHORIZATION;
-- the trail keeps each exact reason
SELECT subject, sqlstate, detail->>'masked' AS masked, detail->>'reason' AS reason FROM frt.audit
 WHERE role_name = 'xm_gate' AND event = 'refusal' ORDER BY seq LIMIT 5;
