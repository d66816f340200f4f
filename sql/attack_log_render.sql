-- Attack (Art. 14): nothing biometric in the server log, whatever the
-- rendering of a vector.  frt.redact_biometrics is the log filter itself
-- (emit_log_hook); each rendering below of a 128-d vector used to reach
-- the log as is: base64 (decode(..., 'base64')), hex without '\x'
-- (decode(..., 'hex')), and number lists joined with '|', ':', '/' or '_'.
CREATE TEMP TABLE lr AS
SELECT array_agg(sin(i * 0.7)::real ORDER BY i) AS v,
	   string_agg(float4send(sin(i * 0.7)::real), ''::bytea ORDER BY i) AS b
  FROM generate_series(1, 128) i;
SELECT frt.redact_biometrics(encode(b, 'base64')) AS base64 FROM lr;
SELECT frt.redact_biometrics(replace(encode(b, 'base64'), E'\n', '')) AS base64_one_line FROM lr;
SELECT frt.redact_biometrics(translate(replace(encode(b, 'base64'), E'\n', ''), '+/', '-_'))
	AS base64url FROM lr;
SELECT frt.redact_biometrics('decode(''' || encode(b, 'hex') || ''', ''hex'')') AS bare_hex FROM lr;
SELECT frt.redact_biometrics(array_to_string(v, sep)) AS joined, sep
  FROM lr, unnest(ARRAY['|', ':', '/', '_', ' | ', '&']) sep;
SELECT frt.redact_biometrics(array_to_string(ARRAY(SELECT (x * 1e6)::int FROM unnest(v) x), '|'))
	AS scaled_integers FROM lr;
-- what is no vector stays as it is: times, ratios, hashes, paths, words
SELECT frt.redact_biometrics(t) = t AS unchanged, t
  FROM unnest(ARRAY[
	'locked until 2026-12-02 09:59:12.843035+00 after 5 failed attempts within 00:15:00',
	'1/2 and 3:4 and 10|20, 4:3 aspect',
	'frt audit anchor: db=postgres seq=6034 hash=' || repeat('ab12', 16) || ' mac=' || repeat('cd34', 16),
	'could not open file "/usr/lib/postgresql/15/lib/frt_governance.so": No such file',
	'ThisIsAVeryLongCamelCaseIdentifierButStillShorterThanABlob42']) t;
