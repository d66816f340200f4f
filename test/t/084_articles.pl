# Measures Art. 5, 7, 8 and 9 enforced where the data lives, each rule
# attacked: a fact the notice states changed without a new notice (and a
# "non-material" notice to dodge re-notice); a notice without an
# accessibility statement; a minor enrolled where minors are not processed,
# relabelled as an adult, matched 1:N, or exported on a self-given transfer
# consent; a face stored centrally without consent or legal basis, or for a
# purpose that keeps faces on devices; a major incident that voids nothing,
# a back-dated re-assessment, an alert that leads nowhere; a change of
# processor, model or dimension that keeps the assessment.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('articles');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'frt_governance'\nclient_min_messages = error");
gov_keys($node);
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }

my $fixture = PostgreSQL::Test::Utils::slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/3/g;
q1($fixture);
q1(q{
	-- 'ok', or the SQLSTATE of the error
	CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
		EXECUTE q;
		RETURN 'ok';
	EXCEPTION WHEN OTHERS THEN
		RETURN SQLSTATE;
	END $$;
	GRANT EXECUTE ON FUNCTION try(text) TO PUBLIC;
	-- re-assess and re-notice a purpose after a change of its facts
	CREATE FUNCTION renew(p text) RETURNS void LANGUAGE sql AS $$
		INSERT INTO frt.assessment (purpose, assessor, report) VALUES (p, 'dpo', 'PIA again');
		SELECT frt.publish_notice(p, 'changed notice', 'm', 'r', 'i', 'rights', 'large print');
	$$;
	SELECT frt.register_subject('s1', '1990-01-01');
	SELECT frt.register_subject('kid', (CURRENT_DATE - interval '10 years')::date);
	SELECT frt.give_consent('s1', 'door', 'self', 'written');
	SELECT frt.enroll('s1', 'door', '[1,0,0]', 'd1');
});
sub try { return q1("SELECT try(\$q\$$_[0]\$q\$)"); }
sub try_as { return q1("SET ROLE $_[0]; SELECT try(\$q\$$_[1]\$q\$)"); }
sub report { return q1("SELECT status || ': ' || detail FROM frt.compliance_report() WHERE check_name = '$_[0]'"); }
my $verify_s1 = q{SELECT frt.verify('s1', 'door', '[1,0,0]', 'd1')};
is(try($verify_s1), 'ok', 'control: s1 verifies at the door');
is(report('notice_states_facts'), "ok: every notice in force states its purpose's current facts", 'report green');

# ---- Art. 5: the facts a notice states ----
q1(q{UPDATE frt.purpose SET retention = '5 years' WHERE name = 'door';
	 INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('door', 'dpo', 'PIA 5 years')});
is(try($verify_s1), 'MF050', 'retention raised, assessment renewed, no new notice: verification refused');
is(try(q{SELECT frt.enroll('s1', 'door', '[1,0,0]', 'd1')}), 'MF050', 'and enrolment');
like(report('notice_states_facts'), qr/^violation: .*door \(retention\)/, 'the report shows it red, naming the fact');
is(q1(q{SELECT count(*) FROM frt.audit WHERE event = 'refusal' AND sqlstate = 'MF050'}), '2', 'refusals on record');
# a "non-material" notice stating new facts is material all the same
q1(q{SELECT frt.publish_notice('door', 'kept 5 years now', 'm', '5 years', 'i', 'rights', 'large print',
	 p_material_change => false)});
is(q1(q{SELECT material_change, facts->>'retention' FROM frt.notice WHERE purpose = 'door' ORDER BY version DESC LIMIT 1}),
	't|5 years', 'a notice stating changed facts is material whatever the caller says');
is(q1(q{SELECT needs_renotice FROM frt.consent WHERE subject = 's1' AND purpose = 'door'}), 't',
	'the consent given under the old notice awaits re-notice');
is(try($verify_s1), 'MF005', 'processing it is refused until renewed');
q1(q{SELECT frt.give_consent('s1', 'door', 'self', 'written')});
is(try($verify_s1), 'ok', 'renewed against the new notice: verifies');
is(report('notice_states_facts'), "ok: every notice in force states its purpose's current facts", 'report green again');
# a notice without accessibility; facts cannot be forged by direct insert
is(try(q{SELECT frt.publish_notice('door', 'n', 'm', 'r', 'i', 'rights')}), 'MF051',
	'a notice without an accessibility statement is refused');
q1(q{SET ROLE frt_admin;
	 INSERT INTO frt.notice (purpose, body, processing_method, retention_statement, necessity_and_impact,
		rights_procedure, accessibility, material_change, facts)
	 VALUES ('door', 'n', 'm', 'r', 'i', 'rights', 'audio', false, '{"retention": "1 day"}')});
is(q1(q{SELECT facts->>'retention', material_change FROM frt.notice WHERE purpose = 'door' ORDER BY version DESC LIMIT 1}),
	'5 years|f', 'a notice states the facts as they are, not as the caller writes them');
is(report('notice_accessibility'), 'ok: every notice in force has an accessibility statement for disabled and elderly people',
	'accessibility reported');

# ---- Art. 9: processor, model and dimension changes void the assessment ----
# (the purpose moves to another processor and back; the second processor
# goes again so that the sole processor's roles keep acting for it)
q1(q{INSERT INTO frt.processor VALUES ('Acme Two', 'dpo@two.example')});
for my $change ("processor = 'Acme Two'", "processor = 'Acme Ltd'", "model = 'facenet v2'", "dimension = 4")
{
	q1(q{INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('gate', 'dpo', 'PIA')});
	q1("UPDATE frt.purpose SET $change WHERE name = 'gate'");
	is(q1(q{SELECT frt.has_current_assessment('gate')}), 'f', "$change voids the assessment");
	q1(q{DELETE FROM frt.processor WHERE name = 'Acme Two'}) if $change =~ /Acme Ltd/;
}
is(q1(q{SELECT void_reason FROM frt.assessment WHERE purpose = 'gate' ORDER BY id DESC LIMIT 1}),
	'purpose changed: dimension', 'the reason names the fact');
q1(q{UPDATE frt.purpose SET dimension = 3 WHERE name = 'gate'; SELECT renew('gate')});

# ---- Art. 7: minors ----
q1(q{SELECT frt.give_consent('kid', 'door', 'guardian', 'written', 'mother')});
is(try(q{SELECT frt.enroll('kid', 'door', '[0,0,1]', 'd1')}), 'MF070',
	'a minor is refused where the purpose does not process minors (the default)');
q1(q{UPDATE frt.purpose SET minors_allowed = true WHERE name = 'door'});
is(q1(q{SELECT frt.has_current_assessment('door')}), 'f', 'admitting minors voids the assessment');
is(try(q{SELECT frt.enroll('kid', 'door', '[0,0,1]', 'd1')}), 'MF009', 'and needs a new one');
q1(q{SELECT renew('door');
	 SELECT frt.give_consent('s1', 'door', 'self', 'written');
	 SELECT frt.give_consent('kid', 'door', 'guardian', 'written', 'mother')});
is(try(q{SELECT frt.enroll('kid', 'door', '[0,0,1]', 'd1')}), 'ok', 'admitted, re-assessed, re-noticed: enrolled');
q1(q{SELECT frt.give_consent('kid', 'door', 'self', 'written')});
is(try(q{SELECT frt.verify('kid', 'door', '[0,0,1]', 'd1')}), 'MF007', 'verifying a minor needs the guardian consent');
q1(q{SELECT frt.give_consent('kid', 'door', 'self', 'written', p_transfer_consent => true)});
is(try(q{SELECT * FROM frt.export_faces('kid', 'door')}), 'MF007', 'a minor exported on a self-given transfer consent: refused');
q1(q{SELECT frt.give_consent('kid', 'door', 'guardian', 'written', 'mother')});
is(try(q{SELECT * FROM frt.export_faces('kid', 'door')}), 'MF071', 'the guardian consented, but not to transfer: refused');
q1(q{SELECT frt.give_consent('kid', 'door', 'guardian', 'written', 'mother', p_transfer_consent => true)});
is(q1(q{SELECT count(*) FROM frt.export_faces('kid', 'door')}), '1', "the guardian's transfer consent: exported");
is(try(q{UPDATE frt.subject SET birth_date = '1990-01-01' WHERE id = 'kid'}), 'MF072',
	'a minor cannot be relabelled as an adult');
is(q1(q{SELECT bool_and(expires_at <= enrolled_at + interval '1 year') FROM frt.face WHERE subject = 'kid'}), 't',
	"a minor's face expires within the minor retention");
# 1:N: a minor's face is matched only while the purpose processes minors
q1(q{UPDATE frt.purpose SET minors_allowed = true WHERE name = 'gate'; SELECT renew('gate');
	 SELECT frt.register_subject('kid2', (CURRENT_DATE - interval '9 years')::date);
	 SELECT frt.give_consent('kid2', 'gate', 'guardian', 'written', 'father');
	 SELECT frt.enroll('kid2', 'gate', '[0,1,0]', 'cam')});
is(q1(q{SELECT string_agg(subject, ',') FROM frt.identify('gate', '[0,1,0]', 'cam')}), 'kid2', 'identified while admitted');
q1(q{UPDATE frt.purpose SET minors_allowed = false WHERE name = 'gate'; SELECT renew('gate');
	 SELECT frt.give_consent('kid2', 'gate', 'guardian', 'written', 'father')});
is(q1(q{SELECT count(*) FROM frt.identify('gate', '[0,1,0]', 'cam')}), '0', 'hidden from 1:N once minors are not processed');
like(report('minors_per_purpose'), qr/^violation: .*door: 1 \(allowed\); gate: 1 \(not allowed\)/,
	'the report shows minors per purpose, red where not processed');

# ---- Art. 8: central storage ----
q1(q{INSERT INTO frt.purpose (name, kind, description, method, retention, alternative_method, dimension)
	 VALUES ('hub', 'verification', 'shared door hub', '1:1', '1 year', 'badge', 3);
	 SELECT frt.publish_notice('hub', 'n', 'm', 'r', 'i', 'rights', 'large print');
	 INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('hub', 'dpo', 'PIA');
	 SELECT frt.give_consent('s1', 'hub', 'self', 'written', p_transfer_consent => true)});
is(try(q{SELECT frt.enroll('s1', 'hub', '[1,0,0]', 'd1')}), 'MF081',
	'stored centrally without consent or legal basis: refused (transfer consent is not storage consent)');
is(q1(q{SELECT count(*) FROM frt.audit WHERE sqlstate = 'MF081' AND purpose = 'hub'}), '1', 'on record');
q1(q{SELECT frt.give_consent('s1', 'hub', 'self', 'written', p_central_storage => true)});
is(try(q{SELECT frt.enroll('s1', 'hub', '[1,0,0]', 'd1')}), 'ok', 'with the separate central-storage consent: stored');
is(try(q{SELECT * FROM frt.export_faces('s1', 'hub')}), 'MF008', 'export still needs transfer consent');
q1(q{UPDATE frt.purpose SET storage = 'device' WHERE name = 'hub'; SELECT renew('hub');
	 SELECT frt.give_consent('s1', 'hub', 'self', 'written', p_central_storage => true)});
is(try(q{SELECT frt.enroll('s1', 'hub', '[1,0,0]', 'd1')}), 'MF080', 'a device-storage purpose stores nothing here');
like(report('central_storage_basis'), qr/^violation: 1 faces stored for device-storage purposes/, 'reported');
q1(q{UPDATE frt.purpose SET storage = 'central', storage_legal_basis = 'a regulation' WHERE name = 'hub';
	 SELECT renew('hub'); SELECT frt.give_consent('s1', 'hub', 'self', 'written')});
is(try(q{SELECT frt.enroll('s1', 'hub', '[1,0,0]', 'd1')}), 'ok', 'a legal basis on the purpose: stored without that consent');

# ---- Art. 9: the incident register ----
is(try_as('frt_admin', q{INSERT INTO frt.security_incident (occurred_at, recorded_by, major, description)
	 VALUES (now(), 'me', true, 'quiet')}), '42501', 'frt_admin cannot write the register around record_incident');
my $inc = q1(q{SET ROLE frt_admin; SELECT frt.record_incident('faces leaked from the door server', ARRAY['door'])});
is(q1(q{SELECT frt.has_current_assessment('door'), frt.has_current_assessment('hub')}), 'f|t',
	'a major incident voids the assessments of the purposes it touches, only those');
is(try($verify_s1), 'MF009', 'processing refused');
like(report('reassessment_after_incident'), qr/^violation: .*door \(incident $inc\)/, 'the re-assessment is due in the report');
q1(q{INSERT INTO frt.assessment (purpose, assessor, report, assessed_at) VALUES ('door', 'dpo', 'old PIA', now() - interval '1 day')});
is(try($verify_s1), 'MF090', 'a back-dated assessment is no re-assessment');
q1(q{INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('door', 'dpo', 'PIA after the incident')});
is(try($verify_s1), 'ok', 're-assessed: processing resumes');
like(report('reassessment_after_incident'), qr/^ok/, 'report green');
is(try("UPDATE frt.security_incident SET major = false WHERE id = $inc"), '0A000', 'an incident cannot be downgraded');
is(try("DELETE FROM frt.security_incident_purpose WHERE incident = $inc"), '0A000', 'or detached from a purpose');
# even a superuser inserting rows directly voids
q1(q{WITH i AS (INSERT INTO frt.security_incident (occurred_at, recorded_by, major, description)
		VALUES (now(), 'root', true, 'disk stolen') RETURNING id)
	 INSERT INTO frt.security_incident_purpose SELECT id, 'hub' FROM i});
is(q1(q{SELECT frt.has_current_assessment('hub')}), 'f', 'a major incident inserted directly still voids');
# an intrusion alert opens an incident
q1(q{SELECT frt._alert('bulk_extraction', 'gate', NULL, 'cam', '{}')});
my $seq = q1(q{SELECT max(seq) FROM frt.alert});
q1(q{SELECT renew('gate')});
my $from_alert = q1("SET ROLE frt_admin; SELECT frt.open_incident($seq)");
is(q1("SELECT major, alert_seq, description FROM frt.security_incident WHERE id = $from_alert"),
	"t|$seq|intrusion alert bulk_extraction (audit record $seq)", 'an alert opens a major incident');
is(q1(q{SELECT string_agg(purpose, ',') FROM frt.security_incident_purpose WHERE incident = } . $from_alert),
	'gate', "touching the alert's purpose");
is(q1(q{SELECT frt.has_current_assessment('gate')}), 'f', 'whose assessment is voided');
is(try_as('frt_admin', "SELECT frt.open_incident($seq)"), '23505', 'an alert opens one incident');
is(try("SELECT frt.open_incident(1)"), 'P0002', 'a record that is no alert opens nothing');
is(q1(q{SET ROLE frt_auditor; SELECT count(*) FROM frt.security_incident}), '3', 'frt_auditor reads the register');
is(try_as('frt_matcher', q{SELECT count(*) FROM frt.security_incident}), '42501', 'frt_matcher does not');
like(report('security_incidents'), qr/^info: 3 security incidents recorded \(3 major\)/, 'incidents counted in the report');

done_testing();
