-- Test fixture for the jobs layer: a registered processor and device, an
-- identification purpose (retention 30 days, minors allowed for 7 days,
-- central storage on a legal basis), its notice,
-- assessment.  Loaded by sql/jobs_*.sql and test/t/*_jobs_*.pl.
-- Set psql variable purpose to the purpose name before \i.
SET client_min_messages = warning;
INSERT INTO frt.processor (name, contact) VALUES ('Acme Ltd', 'dpo@acme.example')
	ON CONFLICT DO NOTHING;
INSERT INTO frt.device (name, location_type, signage) VALUES ('jobs-cam', 'workplace', true)
	ON CONFLICT DO NOTHING;
INSERT INTO frt.purpose (name, kind, description, method, retention, minor_retention, minors_allowed,
	storage_legal_basis)
VALUES (:'purpose', 'identification', 'open the office door', '1:N against staff gallery',
		'30 days', '7 days', true, 'test fixture: a regulation allowing central storage');
SELECT frt.publish_notice(:'purpose', 'We match your face to open the door.', '1:N match',
	'kept 30 days (7 days for children)', 'needed to open the door; low impact',
	'withdraw at the front desk', 'read aloud at the front desk') IS NOT NULL AS notice;
INSERT INTO frt.assessment (purpose, assessor, report) VALUES (:'purpose', 'DPO', 'lawful, necessary, low risk');
RESET client_min_messages;

-- A distinctive embedding for face n: component i is (h mod 131071 - 65535)
-- / 65536, exact in float4, where h mixes n*4099 + i (two LCG rounds with
-- xor-shifts), so a test can recompute the bytes (test/t/060_jobs_cron.pl)
-- and look for them, or for their index codes, in the relation files.
CREATE FUNCTION pg_temp.emb(n int, dim int DEFAULT 128) RETURNS frt.face_embedding
LANGUAGE sql AS $$
	SELECT ('[' || string_agg(((h4 % 131071 - 65535) / 65536.0)::text, ',' ORDER BY i) || ']')::frt.face_embedding
	FROM generate_series(1, dim) i,
		LATERAL (SELECT (n::int8 * 4099 + i) * 1103515245 + 12345 & 2147483647 AS h1) a,
		LATERAL (SELECT (h1 # (h1 >> 13)) * 1103515245 + 12345 & 2147483647 AS h3) b,
		LATERAL (SELECT h3 # (h3 >> 16) AS h4) c
$$;
