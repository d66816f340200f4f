-- The search-path attack: a role that may create objects in public shadows
-- the operators, functions and types frt's code uses, with copies that
-- record each call and return wrong answers, and puts them first
-- (public before pg_catalog; pg_temp, with tables named like frt's, before
-- both).  Then every role runs the public API and the DML it may do (the
-- triggers), once under a clean search_path and once under the attacker's,
-- each on a world of its own.  The results must be equal and no shadow may
-- ever have been called.
SELECT gov_world('spc'), gov_world('sps');
DROP ROLE IF EXISTS spa_att, spa_enrol, spa_match, spa_admin, spa_aud;
CREATE ROLE spa_att;
CREATE ROLE spa_enrol IN ROLE frt_enroller;
CREATE ROLE spa_match IN ROLE frt_matcher;
CREATE ROLE spa_admin IN ROLE frt_admin;
CREATE ROLE spa_aud IN ROLE frt_auditor;
GRANT CREATE, USAGE ON SCHEMA public TO spa_att;
CREATE TABLE public.spa_result (phase text, step text, result text);
CREATE TABLE public.spa_shadow_log (what text);
GRANT INSERT, SELECT ON public.spa_result TO PUBLIC;
GRANT INSERT ON public.spa_shadow_log TO spa_att;
-- the harness: run a statement, 'ok' or its SQLSTATE and message (qualified throughout)
CREATE FUNCTION public.spa_try(q pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION public.spa_try(pg_catalog.text) TO PUBLIC;

-- The attacker's shadows.
SET SESSION AUTHORIZATION spa_att;
CREATE FUNCTION public.spa_log(w text) RETURNS bool LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog AS $$
BEGIN
	INSERT INTO public.spa_shadow_log VALUES (w);
	RAISE WARNING 'shadow called: %', w;
	RETURN true;
END
$$;
GRANT EXECUTE ON FUNCTION public.spa_log(text) TO PUBLIC;
DO $$
DECLARE
	o record;
	n int := 0;
	body text;
BEGIN
	FOR o IN SELECT * FROM (VALUES
		-- operator, left, right, result, the real one
		('=', 'text', 'text', 'bool', 'pg_catalog.='), ('<>', 'text', 'text', 'bool', 'pg_catalog.<>'),
		('<', 'text', 'text', 'bool', 'pg_catalog.<'), ('>', 'text', 'text', 'bool', 'pg_catalog.>'),
		('<=', 'text', 'text', 'bool', 'pg_catalog.<='), ('>=', 'text', 'text', 'bool', 'pg_catalog.>='),
		('||', 'text', 'text', 'text', 'pg_catalog.||'), ('~~', 'text', 'text', 'bool', 'pg_catalog.~~'),
		('~', 'text', 'text', 'bool', 'pg_catalog.~'), ('!~', 'text', 'text', 'bool', 'pg_catalog.!~'),
		('=', 'int4', 'int4', 'bool', 'pg_catalog.='), ('<>', 'int4', 'int4', 'bool', 'pg_catalog.<>'),
		('<', 'int4', 'int4', 'bool', 'pg_catalog.<'), ('>', 'int4', 'int4', 'bool', 'pg_catalog.>'),
		('<=', 'int4', 'int4', 'bool', 'pg_catalog.<='), ('>=', 'int4', 'int4', 'bool', 'pg_catalog.>='),
		('+', 'int4', 'int4', 'int4', 'pg_catalog.+'), ('-', 'int4', 'int4', 'int4', 'pg_catalog.-'),
		('=', 'int8', 'int8', 'bool', 'pg_catalog.='), ('<', 'int8', 'int8', 'bool', 'pg_catalog.<'),
		('>', 'int8', 'int8', 'bool', 'pg_catalog.>'), ('>=', 'int8', 'int8', 'bool', 'pg_catalog.>='),
		('<=', 'int8', 'int8', 'bool', 'pg_catalog.<='), ('+', 'int8', 'int8', 'int8', 'pg_catalog.+'),
		('-', 'int8', 'int8', 'int8', 'pg_catalog.-'), ('>', 'int8', 'int4', 'bool', 'pg_catalog.>'),
		('>=', 'int8', 'int4', 'bool', 'pg_catalog.>='), ('-', 'int8', 'int4', 'int8', 'pg_catalog.-'),
		('=', 'float8', 'float8', 'bool', 'pg_catalog.='), ('<', 'float8', 'float8', 'bool', 'pg_catalog.<'),
		('>=', 'float8', 'float8', 'bool', 'pg_catalog.>='), ('<=', 'float8', 'float8', 'bool', 'pg_catalog.<='),
		('-', 'float8', 'float8', 'float8', 'pg_catalog.-'),
		('=', 'timestamptz', 'timestamptz', 'bool', 'pg_catalog.='), ('<', 'timestamptz', 'timestamptz', 'bool', 'pg_catalog.<'),
		('>', 'timestamptz', 'timestamptz', 'bool', 'pg_catalog.>'), ('<=', 'timestamptz', 'timestamptz', 'bool', 'pg_catalog.<='),
		('>=', 'timestamptz', 'timestamptz', 'bool', 'pg_catalog.>='),
		('+', 'timestamptz', 'interval', 'timestamptz', 'pg_catalog.+'), ('-', 'timestamptz', 'interval', 'timestamptz', 'pg_catalog.-'),
		('-', 'timestamptz', 'timestamptz', 'interval', 'pg_catalog.-'),
		('=', 'date', 'date', 'bool', 'pg_catalog.='), ('<', 'date', 'date', 'bool', 'pg_catalog.<'),
		('>', 'date', 'date', 'bool', 'pg_catalog.>'), ('<=', 'date', 'date', 'bool', 'pg_catalog.<='),
		('>=', 'date', 'date', 'bool', 'pg_catalog.>='), ('+', 'date', 'int4', 'date', 'pg_catalog.+'),
		('-', 'date', 'date', 'int4', 'pg_catalog.-'), ('+', 'date', 'interval', 'timestamp', 'pg_catalog.+'),
		('=', 'interval', 'interval', 'bool', 'pg_catalog.='), ('<', 'interval', 'interval', 'bool', 'pg_catalog.<'),
		('>', 'interval', 'interval', 'bool', 'pg_catalog.>'), ('*', 'int4', 'interval', 'interval', 'pg_catalog.*'),
		('=', 'jsonb', 'jsonb', 'bool', 'pg_catalog.='), ('||', 'jsonb', 'jsonb', 'jsonb', 'pg_catalog.||'),
		('@>', 'jsonb', 'jsonb', 'bool', 'pg_catalog.@>'), ('?', 'jsonb', 'text', 'bool', 'pg_catalog.?'),
		('->>', 'jsonb', 'text', 'text', 'pg_catalog.->>'), ('->', 'jsonb', 'text', 'jsonb', 'pg_catalog.->'),
		('#>>', 'jsonb', 'text[]', 'text', 'pg_catalog.#>>'), ('-', 'jsonb', 'text', 'jsonb', 'pg_catalog.-'),
		('=', 'bool', 'bool', 'bool', 'pg_catalog.='), ('=', 'bytea', 'bytea', 'bool', 'pg_catalog.='),
		('<=>', 'frt.face_embedding', 'frt.face_embedding', 'float8', 'frt.<=>'),
		('<->', 'frt.face_embedding', 'frt.face_embedding', 'float8', 'frt.<->'),
		('=', 'frt.face_embedding', 'frt.face_embedding', 'bool', 'frt.=')
	) v(op, l, r, ret, real) LOOP
		n := n + 1;
		-- a shadow answers wrongly: booleans negated, numbers and times shifted
		body := format('SELECT public.spa_log(%L); RETURN %s;', format('operator %s(%s, %s)', o.op, o.l, o.r),
			CASE o.ret WHEN 'bool' THEN format('NOT (a OPERATOR(%s) b)', o.real)
					   WHEN 'text' THEN format('(a OPERATOR(%s) b) OPERATOR(pg_catalog.||) ''!''', o.real)
					   WHEN 'float8' THEN format('1.5 OPERATOR(pg_catalog.-) (a OPERATOR(%s) b)', o.real)
					   WHEN 'jsonb' THEN format('(a OPERATOR(%s) b) OPERATOR(pg_catalog.||) ''{"shadow": 1}''', o.real)
					   WHEN 'int4' THEN format('(a OPERATOR(%s) b) OPERATOR(pg_catalog.+) 1', o.real)
					   WHEN 'int8' THEN format('(a OPERATOR(%s) b) OPERATOR(pg_catalog.+) 1', o.real)
					   WHEN 'interval' THEN format('(a OPERATOR(%s) b) OPERATOR(pg_catalog.+) ''1 day''::pg_catalog.interval', o.real)
					   ELSE format('(a OPERATOR(%s) b) OPERATOR(pg_catalog.+) ''1 day''::pg_catalog.interval', o.real) END);
		EXECUTE format('CREATE FUNCTION public.spa_op_%s(a %s, b %s) RETURNS %s LANGUAGE plpgsql AS $f$ BEGIN PERFORM %s END $f$',
			n, o.l, o.r, o.ret, replace(body, 'SELECT public.spa_log', 'public.spa_log'));
		EXECUTE format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.spa_op_%s)',
			o.op, o.l, o.r, n);
	END LOOP;
END
$$;
-- shadowing functions
CREATE FUNCTION public.lower(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('lower'); RETURN pg_catalog.upper(t); END $$;
CREATE FUNCTION public.upper(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('upper'); RETURN pg_catalog.lower(t); END $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('now'); RETURN '2999-01-01'; END $$;
CREATE FUNCTION public.statement_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('statement_timestamp'); RETURN '1999-01-01'; END $$;
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('clock_timestamp'); RETURN '1999-01-01'; END $$;
CREATE FUNCTION public.format(f text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('format'); RETURN 'x'; END $$;
CREATE FUNCTION public.length(t text) RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('length'); RETURN 0; END $$;
CREATE FUNCTION public.date_trunc(f text, t timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('date_trunc'); RETURN t; END $$;
CREATE FUNCTION public.jsonb_typeof(j jsonb) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('jsonb_typeof'); RETURN 'array'; END $$;
CREATE FUNCTION public.to_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('to_jsonb'); RETURN '{}'; END $$;
CREATE FUNCTION public.encode(b bytea, f text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('encode'); RETURN 'x'; END $$;
CREATE FUNCTION public.cosine_similarity(a frt.face_embedding, b frt.face_embedding) RETURNS float8 LANGUAGE plpgsql AS $$ BEGIN PERFORM public.spa_log('cosine_similarity'); RETURN 1; END $$;
CREATE FUNCTION public.min_shadow(a int8, b int8) RETURNS int8 LANGUAGE sql AS 'SELECT 0::pg_catalog.int8';
CREATE AGGREGATE public.min(int8) (SFUNC = public.min_shadow, STYPE = int8);
CREATE AGGREGATE public.max(int8) (SFUNC = public.min_shadow, STYPE = int8);
-- shadowing types: a cast to an unqualified name lands on a domain that records it
CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.spa_log('type text'));
CREATE DOMAIN public.int8 AS pg_catalog.int8 CHECK (public.spa_log('type int8'));
CREATE DOMAIN public.jsonb AS pg_catalog.jsonb CHECK (public.spa_log('type jsonb'));
CREATE DOMAIN public.timestamptz AS pg_catalog.timestamptz CHECK (public.spa_log('type timestamptz'));
CREATE DOMAIN public.date AS pg_catalog.date CHECK (public.spa_log('type date'));
RESET SESSION AUTHORIZATION;
SELECT count(*) > 60 AS shadow_operators FROM pg_operator WHERE oprnamespace = 'public'::regnamespace;

-- pg_temp: tables named like frt's, searched first for relations and types
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['face', 'consent', 'subject', 'purpose', 'notice', 'assessment', 'device',
		'audit', 'audit_anchor', 'audit_mark', 'intrusion_policy', 'intrusion_counter', 'alert',
		'processor', 'holiday', 'decline', 'erasure_log', 'filing', 'extension_hook'] LOOP
		EXECUTE format('CREATE TEMP TABLE %I (x pg_catalog.int4 CHECK (public.spa_log(%L)))', t, 'pg_temp.' || t);
		EXECUTE format('GRANT ALL ON pg_temp.%I TO PUBLIC', t);
	END LOOP;
END
$$;

-- Phase 1: a clean search_path
\set w spc
\set phase clean
\set path 'pg_catalog, "$user"'
\i sql/gov_search_path_scenario.psql
-- Phase 2: the attacker's, pg_temp first, then public, then pg_catalog
\set w sps
\set phase shadow
\set path 'pg_temp, public, pg_catalog'
\i sql/gov_search_path_scenario.psql

-- Every step gave the same result under both ...
SELECT count(*) AS steps FROM public.spa_result WHERE phase = 'clean';
SELECT coalesce(c.step, s.step) AS step, c.result AS clean, s.result AS shadow
  FROM (SELECT * FROM public.spa_result WHERE phase = 'clean') c
  FULL JOIN (SELECT * FROM public.spa_result WHERE phase = 'shadow') s ON s.step = c.step
 WHERE c.result IS DISTINCT FROM s.result;
-- ... the results themselves (but those that depend on earlier files)
SELECT step, result FROM public.spa_result
 WHERE phase = 'clean' AND step NOT IN ('filing status', 'compliance report') ORDER BY step;
-- ... and no shadow was ever called
SELECT what, count(*) FROM public.spa_shadow_log GROUP BY what ORDER BY what;

-- The attack is armed: code that is not qualified meets the shadows
-- (an unqualified SQL function, like the ones the rule forbids, run under
-- the attacker's path: its '=', lower() and ::text are the attacker's)
CREATE FUNCTION public.spa_naive(x pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE sql
	AS $$ SELECT lower(x)::text = 'A' $$;
SET search_path = pg_temp, public, pg_catalog;
SELECT public.spa_naive('a') AS naive_answer;
RESET search_path;
SELECT what, count(*) FROM public.spa_shadow_log GROUP BY what ORDER BY what;
DROP FUNCTION public.spa_naive(pg_catalog.text);

-- the attacker's objects go; the worlds stay (later files count only their own)
DROP TABLE public.spa_result;
DROP OWNED BY spa_att CASCADE;
DROP TABLE public.spa_shadow_log;
DROP FUNCTION public.spa_try(pg_catalog.text);
DROP ROLE spa_att, spa_enrol, spa_match, spa_admin, spa_aud;
