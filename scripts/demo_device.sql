-- frt_sqlite demo: a turnstile keeps its gallery on the device (Measures
-- Art. 8), applies the rules itself, and sends the server only the faces
-- whose subjects agreed to it, with its whole audit trail.
-- Run by scripts/demo.sh through the sqlite3 shell (the extension loaded first).
.bail off
.headers on
.mode list
.print '== 1. the device: its processor, a purpose with retention and threshold, a notice'
SELECT frt_device_init('turnstile-7', 'Acme Transit Ltd', 512) AS first_audit_seq;
-- threshold: the largest cosine distance that matches
SELECT frt_purpose_add('door', 'staff door access', 365, 0.25) AS seq;
SELECT frt_notice_publish('door', 'We compare your face with the one you enrolled. Write to dpo@acme.example to withdraw.') AS notice_version;

-- face-like 512-d embeddings: person p's fixed direction plus capture noise
CREATE TEMP TABLE face(p INTEGER, capture INTEGER, e TEXT);
WITH RECURSIVE i(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM i WHERE i < 512),
	 pc(p, c) AS (SELECT p, c FROM (SELECT value AS p FROM json_each('[1,2,3,4,5]')),
	                               (SELECT value AS c FROM json_each('[0,1]')))
INSERT INTO face
SELECT p, c, '[' || group_concat(printf('%.6f', sin(p * 0.37 + i * 0.11) + cos(i * (p % 17 + 1) * 0.013)
                                               + (abs(random() % 1000) / 1000.0 - 0.5) * 0.4 * c), ',') || ']'
  FROM pc, i GROUP BY p, c;

.print '== 2. consent and enrolment: separate consent per person; a child needs a guardian (Art. 7)'
SELECT frt_consent_give('emp-' || p, 'door', 1, '1988-0' || p || '-15') FROM (SELECT value AS p FROM json_each('[1,2,3,4]'));
SELECT frt_consent_give('kid-5', 'door', 1, date('now', '-9 years'));
SELECT frt_consent_give('kid-5', 'door', 1, date('now', '-9 years'), 'parent: Li Na') AS guardian_consent_seq;
-- emp-1 and emp-3 also agree, separately, that their face may go to the server (Art. 8)
SELECT frt_consent_transfer('emp-1', 'door'), frt_consent_transfer('emp-3', 'door');
SELECT frt_enroll('emp-6', 'door', (SELECT e FROM face WHERE p = 1 AND capture = 0));
SELECT count(frt_enroll(CASE WHEN p = 5 THEN 'kid-5' ELSE 'emp-' || p END, 'door', e)) AS enrolled
  FROM face WHERE capture = 0;

.print '== 3. matching on the device: 1:1 at the turnstile, 1:N for the purpose (exact mode, within its threshold)'
SELECT frt_verify('emp-2', 'door', (SELECT e FROM face WHERE p = 2 AND capture = 1)) AS emp2_verified;
SELECT subject, round(distance, 3) AS distance
  FROM frt_face WHERE embedding MATCH (SELECT e FROM face WHERE p = 4 AND capture = 1)
   AND purpose = 'door' AND k = 3 AND max_distance = 0.25 AND mode = 'exact';
.print 'no asking for more faces, or farther ones, than the purpose needs (a gallery read out one distance at a time):'
SELECT subject FROM frt_face WHERE embedding MATCH (SELECT e FROM face WHERE p = 4 AND capture = 1)
   AND purpose = 'door' AND k = 3 AND max_distance = 2;
.print 'nothing reads a stored face, not the table, not its storage:'
SELECT embedding FROM frt_face LIMIT 1;
SELECT vectors FROM frt_face_chunks LIMIT 1;

.print '== 4. intrusion: repeated failed verifications lock the person out (Art. 14)'
SELECT frt_verify('emp-3', 'door', (SELECT e FROM face WHERE p = 1 AND capture = 1)) AS attempt;
SELECT frt_verify('emp-3', 'door', (SELECT e FROM face WHERE p = 2 AND capture = 1)) AS attempt;
SELECT frt_verify('emp-3', 'door', (SELECT e FROM face WHERE p = 4 AND capture = 1)) AS attempt;
SELECT frt_verify('emp-3', 'door', (SELECT e FROM face WHERE p = 5 AND capture = 1)) AS attempt;
SELECT frt_verify('emp-3', 'door', (SELECT e FROM face WHERE p = 1 AND capture = 0)) AS attempt;
.print "now even emp-3's own face is refused until the lockout ends:"
SELECT frt_verify('emp-3', 'door', (SELECT e FROM face WHERE p = 3 AND capture = 1));

.print '== 5. withdrawal: one call, effective at once, the face physically erased (Art. 6, 8)'
SELECT frt_withdraw('emp-4') AS faces_erased;
SELECT count(*) AS emp4_faces FROM frt_face WHERE subject = 'emp-4';
SELECT frt_erasure_status() AS erasure;

.print "== 6. the audit trail: hash-chained in the server's format, verified here"
SELECT seq, event, outcome, coalesce(sqlstate, '') AS sqlstate, coalesce(subject, '') AS subject
  FROM frt_audit ORDER BY seq DESC LIMIT 8;
SELECT frt_audit_verify() AS chain;

.print '== 7. sync: the payload for the server (faces with transfer consent only, the whole trail)'
.headers off
.output sync-payload.json
SELECT frt_sync_export();
.output stdout
.headers on
SELECT json_array_length(readfile('sync-payload.json'), '$.audit') AS records,
       (SELECT group_concat(value ->> 'subject', ', ') FROM json_each(readfile('sync-payload.json'), '$.faces')) AS faces_sent;
