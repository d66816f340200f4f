-- Governance rules on the device: every refusal has the server's MF code
-- and article, is recorded (the last audit record shows it) and changes
-- nothing else (the fingerprint of the governed tables is unchanged).
.mode list
.headers off
CREATE TEMP VIEW fp AS SELECT
  (SELECT count(*) || '/' || coalesce(group_concat(name, ','), '') FROM frt_purpose) || ' ' ||
  (SELECT count(*) || '/' || coalesce(group_concat(subject || ':' || purpose || ':' || notice_version || ':' || transfer, ','), '') FROM frt_consent) || ' ' ||
  (SELECT count(*) FROM frt_face) || ' ' ||
  (SELECT count(*) FROM frt_lockout) || ' ' ||
  (SELECT count(*) FROM frt_notice) AS state;
CREATE TEMP VIEW last AS SELECT seq || ' ' || event || ' ' || outcome || ' ' || coalesce(sqlstate, '-') || ' ' || coalesce(purpose, '-') || ' ' || coalesce(subject, '-') || ' ' || coalesce(json_remove(detail, '$.expires_at'), '-') AS rec FROM frt_audit ORDER BY seq DESC LIMIT 1;
-- before frt_device_init: nothing to govern
SELECT frt_purpose_add('door', 'office door', 30, 0.3);
SELECT frt_device_init('cam-1', 'Acme', 4, 'euclid');
SELECT frt_device_init('cam-1', 'Acme', 0);
SELECT frt_device_init('cam-1', 'Acme', 4);
SELECT frt_device_init('cam-1', 'Acme', 4);
SELECT * FROM last;
SELECT frt_purpose_add('door', 'office door', 30, 0.3);
SELECT frt_purpose_add('door', 'again', 30, 0.3);
SELECT frt_purpose_add('hall', 'hall', 0, 0.3);
SELECT frt_purpose_add('hall', 'hall', 30, -1);
SELECT frt_purpose_add(NULL, 'hall', 30, 0.3);
SELECT * FROM last;
SELECT state FROM fp;
-- notices
SELECT frt_notice_publish('nowhere', 'text');
SELECT * FROM last;
SELECT frt_consent_give('alice', 'door', 1);
SELECT * FROM last;
SELECT frt_notice_publish('door', 'we compare your face at the door');
-- consent: unknown purpose, wrong notice version, bad input, minors
SELECT state FROM fp;
SELECT frt_consent_give('alice', 'nowhere', 1);
SELECT * FROM last;
SELECT frt_consent_give('alice', 'door', 2);
SELECT * FROM last;
SELECT frt_consent_give('alice', 'door', 1, '1990-02-30');
SELECT * FROM last;
SELECT frt_consent_give('alice', 'door', 1, '2999-01-01');
SELECT frt_consent_give('', 'door', 1);
SELECT frt_consent_give('kid', 'door', 1, date('now', '-10 years'));
SELECT * FROM last;
SELECT frt_consent_give('kid', 'door', 1, date('now', '-10 years'), '');
SELECT state FROM fp;
SELECT frt_consent_give('kid', 'door', 1, date('now', '-10 years'), 'guardian-ref-7') > 0;
SELECT frt_consent_give('alice', 'door', 1, '1990-01-01') > 0;
SELECT * FROM last;
SELECT state FROM fp;
-- enrolment: consent missing, unknown purpose, bad embeddings
SELECT frt_enroll('bob', 'door', '[1,0,0,0]');
SELECT * FROM last;
SELECT frt_enroll('alice', 'nowhere', '[1,0,0,0]');
SELECT frt_enroll('alice', 'door', '[1,0,0]');
SELECT * FROM last;
SELECT frt_enroll('alice', 'door', '[0,0,0,0]');
SELECT frt_enroll('alice', 'door', '[1,0,0,nan]');
SELECT frt_enroll('alice', 'door', 'not a vector');
SELECT frt_enroll('alice', 'door', x'00112233');
SELECT frt_enroll('alice', 'door', NULL);
SELECT frt_enroll(NULL, 'door', '[1,0,0,0]');
SELECT state FROM fp;
SELECT frt_enroll('alice', 'door', '[1,0,0,0]');
SELECT frt_enroll('kid', 'door', '[0,1,0,0]');
SELECT * FROM last;
-- verification
SELECT frt_verify('alice', 'door', '[1,0.1,0,0]');
SELECT * FROM last;
SELECT frt_verify('alice', 'door', '[0,0,1,0]');
SELECT * FROM last;
SELECT frt_verify('bob', 'door', '[1,0,0,0]');
SELECT frt_verify('alice', 'nowhere', '[1,0,0,0]');
SELECT frt_verify('alice', 'door', '[1,0]');
SELECT state FROM fp;
-- a consent under an older notice: refused until renewed
SELECT frt_notice_publish('door', 'we compare your face at the door, version 2');
SELECT frt_verify('alice', 'door', '[1,0,0,0]');
SELECT * FROM last;
SELECT frt_enroll('alice', 'door', '[1,0,0,0]');
SELECT frt_consent_transfer('alice', 'door');
SELECT state FROM fp;
SELECT frt_consent_give('alice', 'door', 2) > 0;
SELECT * FROM last;
SELECT frt_consent_give('kid', 'door', 2, date('now', '-10 years'), 'guardian-ref-7') > 0;
SELECT frt_verify('alice', 'door', '[1,0,0,0]');
SELECT frt_consent_transfer('alice', 'door') > 0;
SELECT * FROM last;
SELECT frt_consent_transfer('bob', 'door');
-- withdrawal: one call, faces erased at once; then refused as no consent
SELECT state FROM fp;
SELECT frt_withdraw('alice');
SELECT * FROM frt_audit ORDER BY seq DESC LIMIT 0;
SELECT event || ' ' || outcome || ' ' || detail FROM frt_audit ORDER BY seq DESC LIMIT 2;
SELECT state FROM fp;
SELECT frt_verify('alice', 'door', '[1,0,0,0]');
SELECT * FROM last;
SELECT frt_enroll('alice', 'door', '[1,0,0,0]');
SELECT frt_withdraw('alice');
SELECT * FROM last;
SELECT frt_withdraw(NULL);
SELECT frt_withdraw('kid', 'door');
SELECT state FROM fp;
-- never a vector in a message or a record
SELECT frt_verify('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0,1.1,1.2,1.3,1.4,1.5,1.6]', 'door', '[1,0,0,0]');
SELECT * FROM last;
SELECT count(*) FROM frt_audit WHERE coalesce(subject, '') || coalesce(detail, '') LIKE '%0.1,0.2%';
SELECT frt_audit_verify();
SELECT frt_erasure_status();
