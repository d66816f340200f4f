-- A lawful governance world shared by the TAP tests and bench/gov_bench.sh.
-- psql variable :dim is the embedding dimension (TAP tests substitute it).
-- Purposes: door (verification, alternative 'badge', 1 year) and gate
-- (identification serving public security, 30 days); each with a notice and
-- an assessment.  Devices: d1 (workplace), cam (public place with signage),
-- shower (private space: always refused).
CREATE EXTENSION IF NOT EXISTS frt_governance CASCADE;
INSERT INTO frt.processor VALUES ('Acme Ltd', 'dpo@acme.example');
INSERT INTO frt.purpose (name, kind, description, method, retention, alternative_method, dimension,
	storage_legal_basis)
VALUES ('door', 'verification', 'door access', '1:1', '1 year', 'badge', :dim, 'test fixture: a regulation');
INSERT INTO frt.purpose (name, kind, description, method, retention, serves_public_security, dimension,
	storage_legal_basis)
VALUES ('gate', 'identification', 'gate', '1:N', '30 days', true, :dim, 'test fixture: a regulation');
SELECT frt.publish_notice(p, 'notice', 'm', '1 year', 'low impact', 'write to dpo', 'large print')
FROM unnest(ARRAY['door', 'gate']) p;
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('door', 'dpo', 'PIA'), ('gate', 'dpo', 'PIA');
INSERT INTO frt.device (name, location_type) VALUES ('d1', 'workplace'), ('shower', 'private_space');
INSERT INTO frt.device (name, location_type, signage, capture_area) VALUES ('cam', 'public_place', true, 'gate');
-- Application authorization (Measures Art. 14): the roles frt_enroller,
-- frt_matcher and frt_admin (and so their members) may perform every
-- operation for both purposes and act for every device.
SELECT count(frt.grant_application(r, p, ARRAY['enrol', 'verify', 'identify', 'export']))
FROM unnest(ARRAY['frt_enroller', 'frt_matcher', 'frt_admin']) r, unnest(ARRAY['door', 'gate']) p;
SELECT count(frt.bind_device(d, r))
FROM unnest(ARRAY['frt_enroller', 'frt_matcher', 'frt_admin']) r, unnest(ARRAY['d1', 'cam', 'shower']) d;
