-- face_embedding: I/O, typmod, casts, operators, functions and bad input.
SET search_path = public, frt;
-- try(sql): run a statement, report its SQLSTATE and message (or 'ok').
CREATE FUNCTION try(sql text, OUT state text, OUT message text) LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	state := '00000'; message := 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
END $$;

-- text round trip is exact (shortest decimal form)
SELECT '[1,-2.5,3.25e-3]'::face_embedding;
SELECT '[0.1, 0.2 ,0.3]'::face_embedding(3);
SELECT '  [ 1 , 2 ]  '::face_embedding;
SELECT '[-0]'::face_embedding;
SELECT '[1e-45]'::face_embedding, '[3.4028235e38]'::face_embedding;
-- 512 random components survive text -> value -> text -> value bit for bit,
-- and the text form equals that of real[] (shortest exact decimals)
WITH v AS (SELECT array_agg(((random() * 2 - 1) * 10 ^ (g % 7 - 3))::real) AS a
           FROM generate_series(1, 512) g),
     e AS (SELECT a, a::face_embedding AS e FROM v)
SELECT e.e = (e.e::text)::face_embedding AS text_round_trip,
       e.e::real[] = e.a AS array_round_trip,
       translate(e.e::text, '[]', '{}') = e.a::text AS same_digits_as_real
  FROM e;
SELECT dims('[1,2,3]'), norm('[3,4]');

-- typmod
CREATE TABLE emb (id int, e face_embedding(3));
INSERT INTO emb VALUES (1, '[1,2,3]'), (2, '[0,0,1]'), (3, NULL);
\d emb
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'emb'::regclass AND attname = 'e';
SELECT '[1,2]'::face_embedding(0);
SELECT '[1,2]'::face_embedding(4097);
SELECT '[1,2]'::face_embedding(2, 3);

-- bad text input: each an error with its SQLSTATE, nothing inserted
SELECT t.label, r.* FROM (VALUES
	('wrong dimension', '[1,2]'), ('NaN', '[1,2,NaN]'), ('+Infinity', '[1,2,Infinity]'),
	('-Infinity', '[1,2,-inf]'), ('overflows real', '[1,2,1e39]'), ('underflows real', '[1,2,1e-50]'),
	('empty', '[]'),
	('empty string', ''), ('no brackets', '1,2,3'), ('truncated', '[1,2,3'),
	('missing number', '[1,2,,3]'), ('junk after', '[1,2,3]x'), ('wrong separator', '[1;2;3]'),
	('not a number', '[1,2,abc]'), ('only bracket', '['), ('nested', '[[1,2,3]]'))
	AS t(label, v), LATERAL try(format('INSERT INTO emb VALUES (9, %L)', t.v)) r;
SELECT * FROM try($$SELECT ('[' || repeat('1,', 4096) || '1]')::face_embedding$$);  -- 4097 dimensions
SELECT * FROM try($$SELECT repeat('1', 200000)::face_embedding$$);   -- oversized text
SELECT dims(('[' || repeat('1,', 4095) || '1]')::face_embedding);  -- 4096 is fine
INSERT INTO emb VALUES (9, NULL::face_embedding);  -- NULL is NULL, not an error
DELETE FROM emb WHERE id = 9;
SELECT count(*) FROM emb;

-- the error message never echoes the value (face information)
DO $$
BEGIN
	PERFORM '[0.123456,0.654321,oops]'::frt.face_embedding;
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'echoes value: %', SQLERRM || coalesce(SQLERRM, '') LIKE '%0.123456%';
END $$;
-- ... on any error path of the input: message, detail and hint (the
-- context may quote the caller's own statement)
CREATE FUNCTION echoes(sql text, OUT state text, OUT echoes bool) LANGUAGE plpgsql AS $$
DECLARE
	m text; d text; h text;
BEGIN
	EXECUTE sql;
	state := '00000'; echoes := false;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, m = MESSAGE_TEXT,
		d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	echoes := concat(m, d, h) LIKE '%123456%';
END $$;
SELECT t.label, r.* FROM (VALUES
	('not a number', $$SELECT '[0.123456,oops]'::face_embedding$$),
	('junk after', $$SELECT '[0.123456]x'::face_embedding$$),
	('separator', $$SELECT '[0.123456;0.654321]'::face_embedding$$),
	('no bracket', $$SELECT '0.123456,0.654321'::face_embedding$$),
	('truncated', $$SELECT '[0.123456,0.654321'::face_embedding$$),
	('NaN', $$SELECT '[0.123456,NaN]'::face_embedding$$),
	('overflow', $$SELECT '[0.123456,1e39]'::face_embedding$$),
	('underflow', $$SELECT '[0.123456,1e-50]'::face_embedding$$),
	('typmod', $$SELECT '[0.123456,0.654321]'::face_embedding(3)$$),
	('float8[] overflow', $$SELECT ARRAY[0.123456,1e300]::float8[]::face_embedding$$),
	('float8[] underflow', $$SELECT ARRAY[0.123456,1e-50]::float8[]::face_embedding$$),
	('float8[] NaN', $$SELECT ARRAY[0.123456,'NaN']::float8[]::face_embedding$$),
	('bytea', $$SELECT '\x123456'::bytea::face_embedding$$))
	AS t(label, sql), LATERAL echoes(t.sql) r;

-- casts from and to arrays
SELECT ARRAY[1,2,3]::real[]::face_embedding;
SELECT ARRAY[1.5,2,3]::double precision[]::face_embedding(3);
SELECT '[1,2,3]'::face_embedding::real[], '[1,2,3]'::face_embedding::double precision[];
INSERT INTO emb VALUES (4, ARRAY[4,5,6]::real[]);   -- assignment cast
SELECT ARRAY[1,NULL,3]::real[]::face_embedding;     -- NULL element
SELECT ARRAY[[1,2],[3,4]]::real[]::face_embedding;  -- multi-dimensional
SELECT ARRAY[]::real[]::face_embedding;             -- empty array
SELECT ARRAY[1,'NaN']::real[]::face_embedding;      -- NaN element
SELECT ARRAY[1,'-Infinity']::float8[]::face_embedding;  -- infinite element
SELECT ARRAY[1,1e300]::float8[]::face_embedding;    -- out of range for real
SELECT ARRAY[1,1e-50]::float8[]::face_embedding;    -- underflows real (not silently 0)
-- as in text: a denormal and the largest real are fine, a true zero is zero
SELECT ARRAY[1e-45,3.4028235e38,0]::float8[]::face_embedding = '[1e-45,3.4028235e38,0]' AS same_as_text;
SELECT ARRAY[1,2]::real[]::face_embedding(3);       -- wrong dimension

-- cast from bytea (little-endian float32)
SELECT '\x0000803f00000040'::bytea::face_embedding;
SELECT '\x0000803f000000'::bytea::face_embedding;   -- not a multiple of 4
SELECT '\x'::bytea::face_embedding;                 -- empty
SELECT '\x0000c07f'::bytea::face_embedding;         -- NaN
SELECT '\x0000807f'::bytea::face_embedding;         -- +Infinity
SELECT '\x01000000'::bytea::face_embedding = '[1e-45]' AS denormal_as_in_text;

-- binary send/recv round trip through COPY BINARY
CREATE TEMP TABLE bin_src AS SELECT id, e FROM emb WHERE e IS NOT NULL;
COPY bin_src TO '/tmp/frt_type_test.bin' WITH (FORMAT binary);
CREATE TEMP TABLE bin_dst (id int, e face_embedding(3));
COPY bin_dst FROM '/tmp/frt_type_test.bin' WITH (FORMAT binary);
SELECT s.id, s.e = d.e AS same FROM bin_src s JOIN bin_dst d USING (id) ORDER BY 1;
CREATE TEMP TABLE bin_wrong (id int, e face_embedding(2));
COPY bin_wrong FROM '/tmp/frt_type_test.bin' WITH (FORMAT binary);   -- wrong dimension
SELECT face_embedding_send('[1,2]');
-- truncated, oversized and malformed binary values: a bytea column's binary
-- COPY image read back as face_embedding
CREATE TEMP TABLE raw (b bytea);
CREATE TEMP TABLE bin_bad (e face_embedding);
CREATE FUNCTION try_recv(payload bytea, OUT state text, OUT message text) LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE raw;
	INSERT INTO raw VALUES (payload);
	COPY raw TO '/tmp/frt_type_raw.bin' WITH (FORMAT binary);
	SELECT * INTO state, message FROM try($q$COPY bin_bad FROM '/tmp/frt_type_raw.bin' WITH (FORMAT binary)$q$);
END $$;
SELECT t.label, r.* FROM (VALUES
	('valid', '\x000200003f80000040000000'::bytea),
	('truncated components', '\x000200003f800000'), ('oversized', '\x000100003f80000040000000'),
	('truncated header', '\x00'), ('zero dimensions', '\x00000000'),
	('too many dimensions', '\x10010000'), ('negative dimensions', '\xffff0000'),
	('reserved flags set', '\x000100013f800000'), ('NaN component', '\x000100007fc00000'),
	('infinite component', '\x00010000ff800000'), ('denormal component (as in text)', '\x0001000000000001'))
	AS t(label, payload), LATERAL try_recv(t.payload) r;
SELECT count(*) FROM bin_bad;

-- operators and functions
SELECT '[1,2,3]'::face_embedding <-> '[3,2,1]', '[1,2,3]'::face_embedding <#> '[3,2,1]',
       round(('[1,2,3]'::face_embedding <=> '[3,2,1]')::numeric, 6);
SELECT round(cosine_similarity('[1,0]', '[1,1]')::numeric, 6), inner_product('[1,2]', '[3,4]'),
       l2_distance('[0,0]', '[3,4]');
SELECT l2_normalize('[3,4]'), l2_normalize('[0,0]');
SELECT '[1,0]'::face_embedding <=> '[0,0]';   -- cosine of a zero vector is NaN
SELECT cosine_similarity('[1,1]', '[1,1]') <= 1.0 AS clamped;
SELECT '[1,2,3]'::face_embedding <-> '[1,2]';  -- dimension mismatch
SELECT '[1,2,3]'::face_embedding <=> '[1,2]';
SELECT '[1,2,3]'::face_embedding <#> '[1,2]';
SELECT cosine_similarity('[1,2,3]', '[1,2]');
SELECT oprname, oprcom::regoper FROM pg_operator
 WHERE oprleft = 'face_embedding'::regtype ORDER BY 1;
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel FROM pg_proc p
 WHERE p.pronamespace = 'frt'::regnamespace
   AND p.proname IN ('l2_distance','inner_product','cosine_distance','cosine_similarity',
                     'l2_normalize','dims','norm','negative_inner_product','avg')
 ORDER BY 1;

-- avg aggregate
SELECT avg(e) FROM emb;
SELECT avg(e) FROM emb WHERE false;
SELECT avg(e) FROM (VALUES ('[1,2]'::face_embedding), ('[1,2,3]')) v(e);

-- storage stays in-line for 512 dimensions (no TOAST)
CREATE TABLE emb512 (e face_embedding(512));
INSERT INTO emb512 SELECT (SELECT array_agg(random())::real[] FROM generate_series(1, 512) WHERE g > 0)
FROM generate_series(1, 50) g;
SELECT pg_column_size(e) AS bytes FROM emb512 LIMIT 1;
SELECT pg_relation_size(reltoastrelid) AS toast_bytes FROM pg_class WHERE oid = 'emb512'::regclass;
SELECT attstorage FROM pg_attribute WHERE attrelid = 'emb512'::regclass AND attname = 'e';

DROP TABLE emb, emb512;
