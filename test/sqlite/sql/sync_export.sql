-- Sync on the device (sq_sync.c): the payload holds every record not yet
-- acknowledged and only the faces whose subjects gave the separate
-- transfer consent; a face withheld is audited once, before the trail is
-- cut, and so is the export; the acknowledgement advances the records
-- shipped to what the server acknowledged and no further.
-- not a device yet
SELECT frt_sync_export();
SELECT frt_device_init('cam-1', 'Acme Ltd', 4);
SELECT frt_purpose_add('door', 'office door', 365, 0.6);
SELECT frt_notice_publish('door', 'We compare your face.');
-- mixed transfer consent: s1 and s3 (a child, with a guardian) yes, s2 no
SELECT frt_consent_give('s1', 'door', 1, '1990-01-01');
SELECT frt_consent_transfer('s1', 'door');
SELECT frt_consent_give('s2', 'door', 1, '1991-01-01');
SELECT frt_consent_give('s3', 'door', 1, '2018-01-01', 'parent of s3');
SELECT frt_consent_transfer('s3', 'door');
SELECT frt_enroll('s1', 'door', '[1,0,0,0]');
SELECT frt_enroll('s2', 'door', '[0,1,0,0]');
SELECT frt_enroll('s3', 'door', '[0,0,1,0.25]');
SELECT frt_sync_status();

-- the payload (kept in a file by the shell, read back with readfile())
.once p1.json
SELECT frt_sync_export();
CREATE TEMP VIEW p1 AS SELECT readfile('p1.json') AS j;
SELECT json_extract(j, '$.format'), json_extract(j, '$.device'), json_extract(j, '$.processor') FROM p1;
-- only s1 and s3, each with the seq of its consent and transfer records
SELECT json_extract(f.value, '$.subject'), json_extract(f.value, '$.embedding'),
	json_extract(f.value, '$.consent_seq'), json_extract(f.value, '$.transfer_seq'),
	json_extract(f.value, '$.birth_date'), json_extract(f.value, '$.guardian')
FROM p1, json_each(p1.j, '$.faces') f;
-- s2 withheld, audited (MF008 as on the server), then the export itself
SELECT seq, event, outcome, sqlstate, subject, detail FROM frt_audit WHERE event = 'export';
-- the trail: every record from 1, the export last, hashes as stored
SELECT json_array_length(j, '$.audit'), json_extract(j, '$.audit[0].seq'),
	json_extract(j, '$.audit[#-1].event') || '/' || json_extract(j, '$.audit[#-1].outcome') FROM p1;
SELECT count(*) FROM p1, json_each(p1.j, '$.audit') a
JOIN frt_audit r ON r.seq = json_extract(a.value, '$.seq')
WHERE lower(hex(r.hash)) = json_extract(a.value, '$.hash')
  AND lower(hex(r.prev_hash)) = json_extract(a.value, '$.prev_hash')
  AND r.event = json_extract(a.value, '$.event') AND r.hash_alg = json_extract(a.value, '$.hash_alg');
-- no embedding in the trail
SELECT count(*) FROM frt_audit WHERE detail LIKE '%[%' OR detail LIKE '%0.25%';

-- exported again before any reply: from the same record, s2 not audited again
.once p2.json
SELECT frt_sync_export();
CREATE TEMP VIEW p2 AS SELECT readfile('p2.json') AS j;
SELECT json_extract(j, '$.audit[0].seq'), json_array_length(j, '$.audit'), json_array_length(j, '$.faces') FROM p2;
SELECT count(*) FROM frt_audit WHERE event = 'export' AND outcome = 'refused';
SELECT frt_sync_status();

-- replies that are not the server's acknowledgement of this trail: refused, audited, nothing changes
SELECT frt_sync_ack('not json');
SELECT frt_sync_ack('{"received_through": 3}');
SELECT frt_sync_ack(json_object('device', 'cam-9', 'received_through', 3, 'received_hash',
	(SELECT lower(hex(hash)) FROM frt_audit WHERE seq = 3), 'accepted', json_array(), 'refused', json_array()));
SELECT frt_sync_ack(json_object('device', 'cam-1', 'received_through', 3, 'received_hash',
	(SELECT lower(hex(hash)) FROM frt_audit WHERE seq = 4), 'accepted', json_array(), 'refused', json_array()));
SELECT frt_sync_ack(json_object('device', 'cam-1', 'received_through', 999, 'received_hash',
	(SELECT lower(hex(hash)) FROM frt_audit WHERE seq = 4), 'accepted', json_array(), 'refused', json_array()));
SELECT event, outcome, sqlstate, detail FROM frt_audit WHERE event IN ('refusal', 'rejected');
SELECT frt_sync_status();

-- the server's reply to p2: s1 accepted, s3 refused
SELECT frt_sync_ack(json_object('device', 'cam-1',
	'received_through', (SELECT json_extract(j, '$.audit[#-1].seq') FROM p2),
	'received_hash', (SELECT json_extract(j, '$.audit[#-1].hash') FROM p2), 'receipt', 42,
	'accepted', json_array(json_object('face', 0, 'subject', 's1', 'purpose', 'door', 'face_id', 7)),
	'refused', json_array(json_object('face', 1, 'subject', 's3', 'purpose', 'door', 'sqlstate', 'MF007'),
		json_object('face', 5, 'subject', 'x', 'purpose', 'door', 'sqlstate', 'MF006')))) =
	(SELECT json_extract(j, '$.audit[#-1].seq') FROM p2);
SELECT event, outcome, sqlstate, subject, detail FROM frt_audit WHERE event = 'sync';
SELECT frt_sync_status();

-- the next payload: only the records after the acknowledged one, no face
-- (s1 is on the server, s3 was refused: sent again after a new transfer consent)
.once p3.json
SELECT frt_sync_export();
CREATE TEMP VIEW p3 AS SELECT readfile('p3.json') AS j;
SELECT json_extract(j, '$.audit[0].seq') = (SELECT json_extract(j, '$.audit[#-1].seq') + 1 FROM p2),
	json_array_length(j, '$.faces') FROM p3;

-- the state is the extension's: SQL cannot change it
UPDATE frt_sync SET shipped_seq = 0;
DELETE FROM frt_sync_face;
INSERT INTO frt_sync_face (face, subject, purpose, state) VALUES (9, 's9', 'door', 'accepted');
SELECT frt_sync_status();
SELECT frt_audit_verify();
