-- frt demo: an office-door (1:1) and a station-hall (1:N) deployment, end to end.
\pset footer off
\set ON_ERROR_STOP 1
\echo '== frt demo'
CREATE EXTENSION IF NOT EXISTS frt_governance CASCADE;
SET search_path = public, frt;
SELECT kernel AS simd_kernel_in_use FROM frt.simd_info() WHERE in_use;

-- Face-like embeddings for the demo: person p's face is a fixed unit vector;
-- a capture is that vector plus noise.
CREATE OR REPLACE FUNCTION demo_face(p int, noise float8) RETURNS frt.face_embedding
LANGUAGE sql VOLATILE AS $$
	SELECT frt.l2_normalize(array_agg(sin(p * 0.37 + i * 0.11) + cos(i * (p % 17 + 1) * 0.013)
	                                  + sin(p * i * 0.0007) + (random() - 0.5) * noise
	                                  ORDER BY i)::real[]::frt.face_embedding)
	  FROM generate_series(1, 512) i
$$;

\echo '== 1. the registry (frt_admin): processor, purposes, notices, assessments, devices'
-- the people and applications, each a login in one of the frt_* groups
CREATE ROLE acme_admin LOGIN IN ROLE frt_admin;      -- registers the processing
CREATE ROLE acme_dpo LOGIN IN ROLE frt_admin;        -- approves it (four eyes)
CREATE ROLE enrol_desk LOGIN IN ROLE frt_enroller;   -- the enrolment desk
CREATE ROLE door_app LOGIN IN ROLE frt_matcher;      -- the office-door application
CREATE ROLE station_app LOGIN IN ROLE frt_matcher;   -- the station-hall application
CREATE ROLE acme_auditor LOGIN IN ROLE frt_auditor;  -- the data-protection officer's reader
SET ROLE acme_admin;
INSERT INTO frt.processor VALUES ('Acme Transit Ltd', 'dpo@acme.example');
INSERT INTO frt.purpose (name, kind, description, method, retention, minor_retention,
                         alternative_method, similarity_threshold, dimension)
VALUES ('door', 'verification', 'staff door access', '1:1 at the door', '1 year', '90 days',
        'staff badge', 0.8, 512);
INSERT INTO frt.purpose (name, kind, description, method, retention, minor_retention,
                         similarity_threshold, dimension, serves_public_security, storage_legal_basis)
VALUES ('station', 'identification', 'wanted-person alerts in the station hall',
        '1:N against the watch list', '30 days', '30 days', 0.8, 512, true,
        'the public-security regulation on station watch lists');
SELECT frt.publish_notice(p, 'We compare your face ...', 'comparison of face features',
       'kept ' || p, 'necessary for ' || p, 'write to dpo@acme.example to withdraw', 'large print and audio at the desk')
  FROM unnest(ARRAY['door', 'station']) p;
INSERT INTO frt.assessment (purpose, assessor, report)
SELECT p, 'DPO', 'impact assessment for ' || p FROM unnest(ARRAY['door', 'station']) p;
INSERT INTO frt.device (name, location_type) VALUES ('door-1', 'workplace');
INSERT INTO frt.device (name, location_type, signage, capture_area)
VALUES ('hall-cam-3', 'public_place', true, 'station hall, gates 1-4');
INSERT INTO frt.device (name, location_type) VALUES ('changing-room-cam', 'private_space');
-- each application may do what its purpose needs, with its own devices only
SELECT frt.grant_application('enrol_desk', p, ARRAY['enrol']) FROM unnest(ARRAY['door', 'station']) p;
SELECT frt.grant_application('door_app', 'door', ARRAY['verify']);
SELECT frt.grant_application('station_app', 'station', ARRAY['identify']);
SELECT frt.bind_device(d, 'enrol_desk') FROM unnest(ARRAY['door-1', 'hall-cam-3', 'changing-room-cam']) d;
SELECT frt.bind_device('door-1', 'door_app');
SELECT frt.bind_device('hall-cam-3', 'station_app');
RESET ROLE;
\echo 'nothing is processed until a second administrator approves what the first registered (Art. 14):'
-- (as the approver's own login: a session that could act as the registrant
-- may not approve)
\connect - acme_dpo
SELECT frt.approve_purpose(p) FROM unnest(ARRAY['door', 'station']) p;
SELECT frt.approve_device(d) FROM unnest(ARRAY['door-1', 'hall-cam-3', 'changing-room-cam']) d;
\connect - postgres
\echo '== 2. enrolment (frt_enroller): 2,000 people with separate consent'
SET ROLE enrol_desk;
SELECT count(frt.register_subject('p' || p, date '1990-01-01' + p)) AS subjects,
       count(frt.give_consent('p' || p, 'station', 'self', 'written')) AS consents,
       count(frt.enroll('p' || p, 'station', demo_face(p, 0.3), 'hall-cam-3')) AS faces
  FROM generate_series(1, 2000) p;
SELECT frt.give_consent('p1001', 'door', 'self', 'written', p_central_storage => true);
SELECT frt.enroll('p1001', 'door', demo_face(1001, 0.3), 'door-1');
RESET ROLE;
-- the exact 1:N index (frt_ivf) for the station purpose
CREATE INDEX face_station_ivf ON frt.face USING frt_ivf (frt._face_open(id, embedding) frt.face_cosine_ops)
 WHERE purpose = 'station';
ANALYZE frt.face;

\echo '== 3. refusals: each names its article and leaves nothing behind'
\set ON_ERROR_STOP 0
\set SHOW_CONTEXT never
SET ROLE enrol_desk;
SELECT frt.register_subject('kid-1', (current_date - interval '8 years')::date);
SELECT frt.give_consent('kid-1', 'station', 'self', 'written');
SELECT frt.enroll('kid-1', 'station', demo_face(9999, 0.3), 'hall-cam-3');        -- Art. 7
SELECT frt.enroll('p1', 'station', demo_face(1, 0.3), 'changing-room-cam');       -- Art. 13
SELECT frt.enroll('p1', 'door', demo_face(1, 0.3), 'door-1');                     -- Art. 6
RESET ROLE;
\set ON_ERROR_STOP 1

\echo '== 4. matching (frt_matcher): 1:1 verification and 1:N identification'
SET ROLE door_app;
SELECT * FROM frt.verify('p1001', 'door', demo_face(1001, 0.3), 'door-1');
SELECT * FROM frt.verify('p1001', 'door', demo_face(1500, 0.3), 'door-1');
\echo 'the door application cannot use the station watch list, even naming the station camera (Art. 14):'
\set ON_ERROR_STOP 0
SELECT * FROM frt.identify('station', demo_face(1234, 0.3), 'hall-cam-3', 3);          -- MF144
\set ON_ERROR_STOP 1
RESET ROLE;
SET ROLE station_app;
SELECT * FROM frt.identify('station', demo_face(1234, 0.3), 'hall-cam-3', 3);
\echo 'scores are shown rounded down to 0.01 (purpose.score_disclosure); no asking below the threshold, or for more than max_k subjects:'
\set ON_ERROR_STOP 0
SELECT * FROM frt.identify('station', demo_face(1234, 0.3), 'hall-cam-3', 3, 0.5);     -- MF142
SELECT * FROM frt.identify('station', demo_face(1234, 0.3), 'hall-cam-3', 1000);       -- MF142
\echo 'frt_matcher cannot read an embedding:'
SELECT embedding FROM frt.face LIMIT 1;
\set ON_ERROR_STOP 1
RESET ROLE;

\echo '== 5. withdrawal: effective for the very next statement'
SET ROLE enrol_desk;
SELECT frt.withdraw_consent('p1234', 'station');
RESET ROLE;
SELECT * FROM frt.identify('station', demo_face(1234, 0.3), 'hall-cam-3', 3);
SELECT * FROM frt.purge();
VACUUM (INDEX_CLEANUP ON) frt.face;
SELECT * FROM frt.scrub_faces();
SELECT * FROM frt.erasure_report('p1234');

\echo '== 6. intrusion detection (Art. 14): a brute-force attempt on one person locks them out'
SET ROLE door_app;
-- four more wrong faces for p1001 (one failed above): the fifth failure in
-- 15 minutes locks p1001's verification for 30 minutes and raises an alert
SELECT (frt.verify('p1001', 'door', demo_face(1600 + i, 0.3), 'door-1')).matched FROM generate_series(1, 4) i;
\set ON_ERROR_STOP 0
SELECT * FROM frt.verify('p1001', 'door', demo_face(1001, 0.3), 'door-1');          -- even the right face: MF014
\set ON_ERROR_STOP 1
RESET ROLE;
SET ROLE acme_auditor;
SELECT kind, purpose, subject, detail FROM frt.alert ORDER BY seq;
RESET ROLE;

\echo '== 7. encryption at rest (Art. 14): faces are ciphertext on disk; a key rotation, then the old key is destroyed'
-- as the superuser: what the table holds is a sealed envelope, not a vector
SELECT id, key_epoch, length(embedding) AS sealed_bytes, substr(encode(embedding, 'hex'), 1, 24) || '...' AS starts
  FROM frt.face ORDER BY id LIMIT 2;
SET ROLE acme_admin;
SELECT frt.key_rotate() AS new_epoch;
CALL frt.key_rotation_run(500);
SELECT epoch, suite, state, faces, index_entries FROM frt.key_epochs();
RESET ROLE;
-- matching works throughout, and the same subjects come back
SET ROLE station_app;
SELECT subject, similarity FROM frt.identify('station', demo_face(1500, 0.3), 'hall-cam-3', 3);
RESET ROLE;
SELECT face_id, status, reason, key_destroyed_at IS NOT NULL AS key_destroyed FROM frt.erasure_report('p1234');

\echo '== 8. the data-protection officer (frt_auditor): compliance report, filing, audit chain'
SET ROLE acme_auditor;
SELECT article, check_name, status FROM frt.compliance_report() WHERE status <> 'ok';
SELECT stored_subjects, threshold, status FROM frt.filing_status();
SELECT event, outcome, count(*) FROM frt.audit GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM frt.verify_audit_chain();
RESET ROLE;

\echo '== 9. the regulator reads it in Chinese (lc_messages): compliance report, filing materials, a refusal'
SET lc_messages = 'zh_CN.UTF-8';
SET ROLE acme_auditor;
\pset format unaligned
\pset tuples_only on
SELECT frt.compliance_report_document();
SELECT pg_catalog.left(frt.filing_materials_document(), 1200) || ' ...';
\pset format aligned
\pset tuples_only off
RESET ROLE;
\set ON_ERROR_STOP 0
SET ROLE door_app;
SELECT * FROM frt.identify('station', demo_face(1234, 0.3), 'hall-cam-3', 3);          -- MF144, in Chinese
RESET ROLE;
\set ON_ERROR_STOP 1
RESET lc_messages;
