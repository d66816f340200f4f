-- Search-path-proof code (docs/architecture.md, "Qualified names").  The
-- rule: every function of frt and frt_governance written in SQL or
-- PL/pgSQL either pins search_path to exactly 'pg_catalog, pg_temp', or is
-- an SQL function whose body names every function, operator, type and
-- relation with its schema (a body parsed at creation, BEGIN ATOMIC or
-- RETURN, counts as qualified).  SECURITY DEFINER and PL/pgSQL functions
-- must pin, except a PL/pgSQL procedure that commits (a SET clause forbids
-- transaction control), which must be qualified.  The face read the planner inlines into identify, and the
-- row-level-security policy's function, called on every row, do not pin (a
-- SET clause stops inlining, and costs a GUC save and restore per call) and
-- so must be qualified.  C functions are held to the same
-- rule by review of their SQL text (names module) and by the attack test
-- gov_search_path_attack.
--
-- The checker is a scanner of SQL text; it is tested below on planted cases.

CREATE SCHEMA sp;
-- keywords that may stand before '(' or a string without being a function
-- call or a type name, and SQL types spelled as keywords (parsed as
-- pg_catalog's whatever the path)
CREATE FUNCTION sp.keywords() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
	SELECT ARRAY['all','and','any','array','as','by','case','cast','coalesce','current_date',
		'current_time','current_timestamp','distinct','else','end','escape','except','exists',
		'extract','filter','from','greatest','group','having','in','intersect','into','is','join',
		'lateral','least','limit','not','null','offset','on','or','order','over','overlay',
		'partition','position','return','returning','row','select','set','some','substring',
		'table','then','trim','union','using','values','when','where','window','with','within',
		'true','false','asc','desc','nulls','first','last','left','right','inner','outer','full',
		'cross','natural','only','for','update','delete','insert','do','nothing','conflict',
		'default','begin','atomic','interval','time','timestamp','zone','at','like','ilike','similar',
		'between','nullif','collate','operator']
$$;
CREATE FUNCTION sp.sqltypes() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
	SELECT ARRAY['int','integer','smallint','bigint','real','float','double','precision','decimal',
		'dec','numeric','boolean','char','character','varchar','varying','nchar','national','bit',
		'interval','time','timestamp','with','without','zone']
$$;

-- Tokens of SQL text: (kind, text lower-cased for words) with comments and
-- whitespace dropped.  Kinds: id (a.b.c, quoted parts kept), op, str, num,
-- param, cast ('::'), punct.
CREATE FUNCTION sp.tokens(src text, OUT n int, OUT kind text, OUT tok text)
RETURNS SETOF record LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	i int := 1;
	len int := length(src);
	c text;
	j int;
	tag text;
BEGIN
	n := 0;
	WHILE i <= len LOOP
		c := substr(src, i, 1);
		IF c ~ '\s' THEN
			i := i + 1; CONTINUE;
		ELSIF substr(src, i, 2) = '--' THEN
			j := strpos(substr(src, i), E'\n');
			i := CASE WHEN j = 0 THEN len + 1 ELSE i + j END; CONTINUE;
		ELSIF substr(src, i, 2) = '/*' THEN
			j := strpos(substr(src, i + 2), '*/');
			i := CASE WHEN j = 0 THEN len + 1 ELSE i + j + 3 END; CONTINUE;
		ELSIF c = '''' OR (lower(c) = 'e' AND substr(src, i + 1, 1) = '''') THEN
			j := i + CASE WHEN c = '''' THEN 1 ELSE 2 END;
			LOOP
				EXIT WHEN j > len;
				IF substr(src, j, 1) = '\' AND lower(c) = 'e' THEN j := j + 2; CONTINUE; END IF;
				IF substr(src, j, 1) = '''' THEN
					IF substr(src, j + 1, 1) = '''' THEN j := j + 2; CONTINUE; END IF;
					EXIT;
				END IF;
				j := j + 1;
			END LOOP;
			kind := 'str'; tok := substr(src, i, j - i + 1); i := j + 1;
		ELSIF c = '$' AND substr(src, i) ~ '^\$[0-9]' THEN
			tag := substring(substr(src, i) FROM '^\$[0-9]+');
			kind := 'param'; tok := tag; i := i + length(tag);
		ELSIF c = '$' AND substr(src, i) ~ '^\$[A-Za-z_]*\$' THEN
			tag := substring(substr(src, i) FROM '^\$[A-Za-z_]*\$');
			j := strpos(substr(src, i + length(tag)), tag);
			j := CASE WHEN j = 0 THEN len + 1 ELSE i + length(tag) + j - 1 + length(tag) END;
			kind := 'str'; tok := substr(src, i, j - i); i := j;
		ELSIF c ~ '[A-Za-z_"]' THEN
			-- a possibly dotted name; quoted parts kept as written
			tag := substring(substr(src, i) FROM '^((?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z_0-9$]*)(?:\s*\.\s*(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z_0-9$]*|\*))*)');
			kind := 'id'; tok := regexp_replace(lower(tag), '\s', '', 'g'); i := i + length(tag);
			-- schema.operator, as in OPERATOR(pg_catalog.=): keep the dot for the check
			IF substr(src, i, 1) = '.' THEN tok := tok || '.'; i := i + 1; END IF;
		ELSIF c ~ '[0-9]' OR (c = '.' AND substr(src, i + 1, 1) ~ '[0-9]') THEN
			tag := substring(substr(src, i) FROM '^[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?');
			kind := 'num'; tok := tag; i := i + length(tag);
		ELSIF substr(src, i, 2) = '::' THEN
			kind := 'cast'; tok := '::'; i := i + 2;
		ELSIF c ~ '[-+*/<>=~!@#%^&|`?]' THEN
			tag := substring(substr(src, i) FROM '^[-+*/<>=~!@#%^&|`?]+');
			kind := 'op'; tok := tag; i := i + length(tag);
		ELSE
			kind := 'punct'; tok := c; i := i + 1;
		END IF;
		n := n + 1;
		RETURN NEXT;
	END LOOP;
END
$$;

-- What in SQL text a caller's search_path could change: one row per
-- finding ('call f', 'operator =', 'type text', 'relation t', 'keyword in',
-- 'collation c').  Nothing: the text is search-path proof.
CREATE FUNCTION sp.unqualified(src text) RETURNS SETOF text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	t record;
	k text[] := ARRAY[]::text[];
	v text[] := ARRAY[]::text[];
	kw text[] := sp.keywords();
	ty text[] := sp.sqltypes();
	ctes text[] := ARRAY[]::text[];
	cnt int;
	i int;
	prev text; nxt text; nxt2 text; pk text; nk text;
	opener text[] := ARRAY[]::text[];	-- word before each open parenthesis
	d int := 0;
	from_depth int := -1;
	skip_to int := 0;
	inside text;
BEGIN
	FOR t IN SELECT * FROM sp.tokens(src) ORDER BY n LOOP
		k := k || t.kind; v := v || t.tok;
	END LOOP;
	cnt := coalesce(array_length(k, 1), 0);
	-- names a WITH defines: x AS (
	FOR i IN 1 .. cnt - 2 LOOP
		IF k[i] = 'id' AND v[i + 1] = 'as' AND v[i + 2] = '(' THEN ctes := ctes || v[i]; END IF;
	END LOOP;
	FOR i IN 1 .. cnt LOOP
		CONTINUE WHEN i <= skip_to;
		prev := CASE WHEN i > 1 THEN v[i - 1] END; pk := CASE WHEN i > 1 THEN k[i - 1] END;
		nxt := CASE WHEN i < cnt THEN v[i + 1] END; nk := CASE WHEN i < cnt THEN k[i + 1] END;
		nxt2 := CASE WHEN i + 1 < cnt THEN v[i + 2] END;
		IF v[i] = '(' THEN
			d := d + 1; opener := opener || coalesce(CASE WHEN pk = 'id' THEN prev END, '');
			CONTINUE;
		ELSIF v[i] = ')' THEN
			IF from_depth = d THEN from_depth := -1; END IF;
			d := d - 1; opener := opener[1:greatest(d, 0)];
			CONTINUE;
		END IF;
		IF k[i] = 'id' AND v[i] = 'operator' AND nxt = '(' THEN
			-- OPERATOR(schema.op): the operator must be qualified
			inside := '';
			skip_to := i + 2;
			WHILE skip_to <= cnt AND v[skip_to] <> ')' LOOP
				inside := inside || v[skip_to]; skip_to := skip_to + 1;
			END LOOP;
			IF inside !~ '^[a-z_][a-z_0-9]*\.[^.]+$' THEN RETURN NEXT 'operator ' || inside; END IF;
			CONTINUE;
		END IF;
		IF k[i] = 'op' THEN
			CONTINUE WHEN v[i] = '*' AND (prev IN ('(', 'select', ',') OR prev LIKE '%.')
				AND (nxt IN (')', ',', 'from') OR nxt IS NULL);
			CONTINUE WHEN v[i] = '=>' AND pk = 'id';	-- named argument
			CONTINUE WHEN v[i] IN ('-', '+') AND nk = 'num'
				AND (pk IS NULL OR pk IN ('op', 'cast') OR prev IN ('(', ',') OR prev = ANY (kw));
			RETURN NEXT 'operator ' || v[i];
			CONTINUE;
		END IF;
		IF k[i] = 'cast' THEN
			IF nk = 'id' AND nxt NOT LIKE '%.%' AND NOT nxt = ANY (ty) THEN RETURN NEXT 'type ' || nxt; END IF;
			CONTINUE;
		END IF;
		CONTINUE WHEN k[i] <> 'id';
		-- constructs that look an operator up by name on the path
		IF v[i] IN ('in', 'between', 'like', 'ilike', 'similar')
		   AND regexp_replace(coalesce(opener[d], ''), '^.*\.', '') <> 'position' THEN
			RETURN NEXT 'keyword ' || v[i];
		ELSIF v[i] = 'distinct' AND prev IN ('is', 'not') THEN
			RETURN NEXT 'keyword is distinct from';
		ELSIF v[i] = 'nullif' THEN
			RETURN NEXT 'keyword nullif';
		ELSIF v[i] = 'case' AND nxt <> 'when' THEN
			RETURN NEXT 'keyword case operand';
		ELSIF v[i] = 'collate' THEN
			IF nxt NOT LIKE '%.%' THEN RETURN NEXT 'collation ' || nxt; END IF;
		ELSIF v[i] = 'cast' AND nxt = '(' THEN
			-- CAST(x AS type): the type after the AS at this depth
			DECLARE j int := i + 2; dd int := 0; BEGIN
				WHILE j <= cnt LOOP
					IF v[j] = '(' THEN dd := dd + 1; ELSIF v[j] = ')' THEN EXIT WHEN dd = 0; dd := dd - 1;
					ELSIF v[j] = 'as' AND dd = 0 THEN
						IF v[j + 1] NOT LIKE '%.%' AND NOT v[j + 1] = ANY (ty) THEN
							RETURN NEXT 'type ' || v[j + 1];
						END IF;
						EXIT;
					END IF;
					j := j + 1;
				END LOOP;
			END;
		END IF;
		-- a relation after FROM, JOIN, INTO, UPDATE (not EXTRACT(x FROM y) or IS DISTINCT FROM)
		IF v[i] IN ('from', 'join', 'into', 'update')
		   AND prev IS DISTINCT FROM 'distinct'
		   AND coalesce(opener[d], '') NOT IN ('extract', 'substring', 'trim', 'overlay', 'position') THEN
			IF v[i] = 'from' THEN from_depth := d; END IF;
			IF nxt IN ('only', 'lateral') THEN nxt := nxt2; nk := 'id'; END IF;
			IF nk = 'id' AND nxt NOT LIKE '%.%' AND NOT nxt = ANY (ctes) AND NOT nxt = ANY (kw) THEN
				RETURN NEXT 'relation ' || nxt;
			END IF;
		ELSIF v[i] IN ('where', 'group', 'having', 'order', 'limit', 'offset', 'union', 'except',
					   'intersect', 'window', 'returning', 'on') AND from_depth = d THEN
			from_depth := -1;
		END IF;
		-- a function call, or a type in a typed literal
		IF nxt = '(' AND v[i] NOT LIKE '%.%' AND NOT v[i] = ANY (kw) AND NOT v[i] = ANY (ty)
		   AND prev IS DISTINCT FROM 'as' AND NOT v[i] = ANY (ctes)
		   AND NOT (prev IN ('from', 'join', 'into', 'update', ',') AND v[i] = ANY (ctes)) THEN
			RETURN NEXT 'call ' || v[i];
		ELSIF nk = 'str' AND v[i] NOT LIKE '%.%' AND NOT v[i] = ANY (kw) AND NOT v[i] = ANY (ty) THEN
			RETURN NEXT 'type ' || v[i];
		END IF;
	END LOOP;
	-- a relation after a comma in a FROM list
	d := 0; from_depth := -1;
	FOR i IN 1 .. cnt - 1 LOOP
		IF v[i] = '(' THEN d := d + 1;
		ELSIF v[i] = ')' THEN IF from_depth = d THEN from_depth := -1; END IF; d := d - 1;
		ELSIF v[i] = 'from' AND (i = 1 OR v[i - 1] <> 'distinct') THEN from_depth := d;
		ELSIF v[i] IN ('where', 'group', 'having', 'order', 'limit', 'offset', 'union', 'except',
					   'intersect', 'window', 'returning', 'on', 'join', 'select', 'set', 'values')
			  AND from_depth = d THEN from_depth := -1;
		ELSIF v[i] = ',' AND from_depth = d AND k[i + 1] = 'id' AND v[i + 1] NOT LIKE '%.%'
			  AND NOT v[i + 1] = ANY (ctes) AND NOT v[i + 1] = ANY (kw) THEN
			RETURN NEXT 'relation ' || v[i + 1];
		END IF;
	END LOOP;
END
$$;

-- 1. The scanner, on planted cases (each line: the findings, or none)
SELECT c AS planted, coalesce((SELECT string_agg(f, ', ') FROM sp.unqualified(c) f), 'clean') AS findings
  FROM unnest(ARRAY[
	$q$SELECT pg_catalog.lower(x) FROM frt.face f WHERE f.id OPERATOR(pg_catalog.=) $1$q$,
	$q$SELECT lower(x) FROM frt.face$q$,
	$q$SELECT now(), pg_catalog.now()$q$,
	$q$SELECT a = b, a <> b, a < b, a >= b, a || b, a ~~ b, a @> b, a ? 'k', a ->> 'k', a - b, a + b$q$,
	$q$SELECT a OPERATOR(=) b, a OPERATOR(pg_catalog.<>) b, a OPERATOR(frt.<=>) b$q$,
	$q$SELECT x::text, x::pg_catalog.text, x::int, x::bigint, x::frt.face_embedding, x::face_embedding$q$,
	$q$SELECT CAST(x AS text), CAST(x AS pg_catalog.int8), CAST(x AS integer)$q$,
	$q$SELECT date '2020-01-01', pg_catalog.date '2020-01-01', interval '1 day', timestamp '2020-01-01'$q$,
	$q$SELECT 1 FROM face$q$,
	$q$SELECT 1 FROM frt.face f, consent c WHERE true$q$,
	$q$SELECT 1 FROM frt.face f JOIN consent c ON true$q$,
	$q$INSERT INTO face VALUES (1); UPDATE consent SET x = 1; DELETE FROM only subject$q$,
	$q$WITH h AS (SELECT 1 AS x) SELECT h.x FROM h$q$,
	$q$SELECT x IN (1, 2), x BETWEEN 1 AND 2, x LIKE 'a%', x ILIKE 'a', x IS DISTINCT FROM y$q$,
	$q$SELECT NULLIF(a, b), CASE a WHEN 1 THEN 2 END, CASE WHEN a THEN 1 END, COALESCE(a, b)$q$,
	$q$SELECT EXTRACT(epoch FROM x), pg_catalog.position('a' IN x), x COLLATE "C", x COLLATE pg_catalog."C"$q$,
	$q$SELECT -1, 2 - 1, x * 2, count(*), f.*$q$,
	$q$SELECT 'lower(x) = now()' -- lower(x) = now()
	   /* upper(x) || y */ , $s$ a = b $s$, E'it''s \' = '$q$,
	$q$SELECT f(a => 1), frt.g(p => 2)$q$,
	$q$SELECT x FROM frt.f(1) AS t(a, b), LATERAL frt.g(2) u$q$
  ]) AS c;

-- 2. The rule, over every function of both extensions
CREATE VIEW sp.ext_function AS
	SELECT p.oid, p.oid::regprocedure AS fn, e.extname, l.lanname, p.prosecdef, p.proconfig,
		   p.prorettype = 'trigger'::regtype AS is_trigger, p.prosqlbody IS NOT NULL AS parsed_body,
		   p.prosrc, p.prokind
	  FROM pg_proc p
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname IN ('frt', 'frt_governance')
	  JOIN pg_language l ON l.oid = p.prolang;
CREATE VIEW sp.verdict AS
	SELECT f.*,
		   CASE WHEN f.lanname IN ('c', 'internal') THEN 'c'
				WHEN f.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'] THEN 'pinned'
				WHEN f.prosecdef THEN 'OFFENDER: SECURITY DEFINER without search_path pinned'
				WHEN f.proconfig::text LIKE '%search_path%' THEN 'OFFENDER: search_path pinned to something else'
				-- a procedure that commits cannot pin (PostgreSQL forbids SET with
				-- transaction control): it must be qualified like SQL
				WHEN f.lanname <> 'sql' AND NOT (f.prokind = 'p' AND f.lanname = 'plpgsql')
					THEN 'OFFENDER: ' || f.lanname || ' without search_path pinned'
				WHEN f.parsed_body THEN 'qualified (body parsed at creation)'
				WHEN EXISTS (SELECT FROM sp.unqualified(f.prosrc)) THEN
					'OFFENDER: ' || (SELECT string_agg(DISTINCT u, ', ') FROM sp.unqualified(f.prosrc) u)
				ELSE 'qualified' END AS verdict
	  FROM sp.ext_function f;
-- offenders (none)
SELECT fn, verdict FROM sp.verdict WHERE verdict LIKE 'OFFENDER%' ORDER BY fn::text;
-- how each is proof: by pinning, or qualified
SELECT extname, split_part(verdict, ' (', 1) AS verdict, count(*) FROM sp.verdict GROUP BY 1, 2 ORDER BY 1, 2;

-- 3. What policies, triggers and SECURITY DEFINER functions use, and
-- everything those call (names of this schema in their bodies; the
-- catalog's dependencies for policies, constraints, defaults and indexes):
-- every one is pinned, qualified or C.
CREATE VIEW sp.used AS
	WITH RECURSIVE root AS (
		SELECT f.oid, 'security definer' AS why FROM sp.ext_function f WHERE f.prosecdef
		UNION SELECT f.oid, 'trigger' FROM sp.ext_function f WHERE f.is_trigger
		UNION SELECT t.tgfoid, 'trigger' FROM pg_trigger t WHERE NOT t.tgisinternal
		UNION SELECT d.refobjid, CASE d.classid WHEN 'pg_policy'::regclass THEN 'policy'
				WHEN 'pg_constraint'::regclass THEN 'constraint' WHEN 'pg_attrdef'::regclass THEN 'default'
				ELSE 'index or view' END
		  FROM pg_depend d JOIN sp.ext_function f ON f.oid = d.refobjid
		 WHERE d.refclassid = 'pg_proc'::regclass
		   AND d.classid IN ('pg_policy'::regclass, 'pg_constraint'::regclass, 'pg_attrdef'::regclass,
							 'pg_class'::regclass, 'pg_rewrite'::regclass)
	), closure(oid, why) AS (
		SELECT oid, why FROM root
		UNION
		SELECT g.oid, 'called' FROM closure c JOIN sp.ext_function f ON f.oid = c.oid
		  JOIN LATERAL regexp_matches(f.prosrc, '(?:@extschema@|\mfrt)\.(\w+)\s*\(', 'g') m(name) ON true
		  JOIN sp.ext_function g ON g.fn::text LIKE 'frt.' || m.name[1] || '(%'
	)
	SELECT v.fn, string_agg(DISTINCT c.why, ', ') AS why, v.verdict
	  FROM closure c JOIN sp.verdict v ON v.oid = c.oid GROUP BY v.fn, v.verdict;
SELECT count(*) > 40 AS many_found, count(*) FILTER (WHERE verdict LIKE 'OFFENDER%') AS offenders FROM sp.used;
-- the unpinned ones among them: qualified SQL, kept inlinable
SELECT fn, why, verdict FROM sp.used WHERE verdict NOT IN ('pinned', 'c') ORDER BY fn::text;

-- 4. The unpinned ones stay SQL, not SECURITY DEFINER, without a SET
-- clause, not volatile: frt._face_nearest is inlined into identify's query
-- (its ORDER BY streams from the frt_ivf index); frt._face_active, the
-- policy's, is not inlined (its sub-select prevents it) but runs for every
-- row the policy filters, where a SET clause would cost a GUC save and
-- restore per row
SELECT p.oid::regprocedure AS fn, l.lanname, p.prosecdef, p.proconfig, p.provolatile
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid IN ('frt._face_active(bigint, timestamptz)'::regprocedure,
				 'frt._face_nearest(text, frt.face_embedding, float8)'::regprocedure)
 ORDER BY 1::text;
-- the policy calls it on every row read
CREATE ROLE sp_reader IN ROLE frt_enroller;
SET ROLE sp_reader;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT id FROM frt.face;
RESET max_parallel_workers_per_gather;
RESET ROLE;
DROP ROLE sp_reader;

DROP SCHEMA sp CASCADE;
