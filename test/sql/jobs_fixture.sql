-- Test fixture for the jobs layer: a registered processor, an
-- identification purpose (retention 30 days, minors 7 days), its notice,
-- assessment and device.  Loaded by sql/jobs_*.sql and test/t/*_jobs_*.pl.
SET client_min_messages = warning;
INSERT INTO frt.processor (name, contact) VALUES ('Acme Access Ltd', 'dpo@acme.example');
INSERT INTO frt.purpose (name, kind, description, method, retention, minor_retention)
VALUES ('door', 'identification', 'open the office door', '1:N against staff gallery',
		'30 days', '7 days');
SELECT frt.publish_notice('door', 'We match your face to open the door.', '1:N match',
	'kept 30 days (7 days for children)', 'needed to open the door; low impact',
	'withdraw at the front desk') IS NOT NULL AS notice;
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('door', 'DPO', 'lawful, necessary, low risk');
INSERT INTO frt.device (name, location_type, signage) VALUES ('door-cam', 'workplace', true);
RESET client_min_messages;

-- A distinctive, incompressible embedding: component i of face n.
CREATE FUNCTION pg_temp.emb(n int, dim int DEFAULT 64) RETURNS frt.face_embedding
LANGUAGE sql AS $$
	SELECT ('[' || string_agg(to_char(sin(n * 1000 + i * 0.7311) * 0.9 + n * 1e-3, 'FM0.000000'), ',' ORDER BY i) || ']')::frt.face_embedding
	FROM generate_series(1, dim) i
$$;
