# Several processors and the objects of the other parts of the work: the
# security incident register (Art. 9), the register of persons' requests
# (Art. 17), the subject report, the filing materials (Art. 15), and
# application grants, device bindings and approvals (Art. 14).  Alpha's
# logins attack Beta's; every answer about Beta's object must be the one
# given for an object that does not exist.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('tenants_shares');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;

my %roles = (admin => 'frt_admin', admin2 => 'frt_admin', enr => 'frt_enroller', aud => 'frt_auditor');
my $setup = q{
	CREATE EXTENSION frt_governance CASCADE;
	INSERT INTO frt.processor (name, contact) VALUES ('Alpha Co', 'dpo@alpha.example');
	INSERT INTO frt.processor (name, contact) VALUES ('Beta Co', 'dpo@beta.example');
};
for my $t ('a', 'b')
{
	my $proc = $t eq 'a' ? 'Alpha Co' : 'Beta Co';
	for my $r (sort keys %roles)
	{
		$setup .= "CREATE ROLE ${t}_$r LOGIN IN ROLE $roles{$r};\n";
		$setup .= "SELECT frt.processor_login('${t}_$r', '$proc');\n";
	}
}
$node->safe_psql('postgres', $setup);

# Run SQL as a login; returns stdout, or 'ERROR <SQLSTATE>: message'.
sub as
{
	my ($role, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $role ], on_error_stop => 1);
	return $out if $rc == 0;
	my ($state, $msg) = $err =~ /ERROR:\s+([0-9A-Z]{5}):\s*([^\n]*)/;
	return 'ERROR ' . ($state // '?') . ': ' . ($msg // $err);
}

# The error for another processor's object must read as the one for an
# object that does not exist (names substituted).
sub same_as_missing
{
	my ($role, $sql_theirs, $sql_missing, $theirs, $missing, $name) = @_;
	my $e1 = as($role, $sql_theirs);
	my $e2 = as($role, $sql_missing);
	like($e1, qr/^ERROR /, "$name: refused");
	$e2 =~ s/\Q$missing\E/$theirs/g;
	is($e1, $e2, "$name: the same answer as for one that does not exist");
}

# Each processor's world: purposes, notices, assessments, a device,
# grants and bindings, approved by the second administrator; subjects u1
# (both) and <t>_only, consented and enrolled.
for my $t ('a', 'b')
{
	is(as("${t}_admin", qq{
		INSERT INTO frt.purpose (name, kind, description, method, retention, alternative_method, storage_legal_basis)
		VALUES ('${t}_door', 'verification', 'door', '1:1', '1 year', 'badge', 'a regulation');
		SELECT frt.publish_notice('${t}_door', 'notice', 'm', '1 year', 'low', 'write to dpo', 'large print');
		INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('${t}_door', 'dpo', 'PIA');
		INSERT INTO frt.device (name, location_type) VALUES ('${t}_cam', 'workplace');
		SELECT count(frt.grant_application('${t}_' || r, '${t}_door', ARRAY['enrol', 'verify']))
		  FROM unnest(ARRAY['enr', 'admin']) r;
		SELECT count(frt.bind_device('${t}_cam', '${t}_' || r)) FROM unnest(ARRAY['enr', 'admin']) r;
		SELECT 'ok'}) =~ s/.*\n//sr, 'ok', "$t: the administrator registers its world");
	is(as("${t}_admin2", qq{SELECT frt.approve_purpose('${t}_door') AND frt.approve_device('${t}_cam')}),
		't', "$t: the second administrator approves it");
	is(as("${t}_enr", qq{
		SELECT frt.register_subject(s, '1990-01-01') FROM unnest(ARRAY['u1', '${t}_only']) s;
		SELECT frt.give_consent(s, '${t}_door', 'self', 'written') FROM unnest(ARRAY['u1', '${t}_only']) s;
		SELECT frt.enroll(s, '${t}_door', '[1,0,0,0]', '${t}_cam') FROM unnest(ARRAY['u1', '${t}_only']) s;
		SELECT 'ok'}) =~ s/.*\n//sr, 'ok', "$t: subjects registered, consented and enrolled");
}

# ---- grants, bindings and approvals (Art. 14) ----
same_as_missing('a_admin', q{SELECT frt.grant_application('a_enr', 'b_door', ARRAY['enrol'])},
	q{SELECT frt.grant_application('a_enr', 'no_door', ARRAY['enrol'])}, 'b_door', 'no_door',
	"Alpha grants its login Beta's purpose");
same_as_missing('a_admin', q{SELECT frt.bind_device('b_cam', 'a_enr')},
	q{SELECT frt.bind_device('no_cam', 'a_enr')}, 'b_cam', 'no_cam', "Alpha binds its login to Beta's device");
same_as_missing('a_admin', q{SELECT frt.approve_purpose('b_door')},
	q{SELECT frt.approve_purpose('no_door')}, 'b_door', 'no_door', "Alpha approves Beta's purpose");
same_as_missing('a_admin', q{SELECT frt.approve_device('b_cam')},
	q{SELECT frt.approve_device('no_cam')}, 'b_cam', 'no_cam', "Alpha approves Beta's device");
same_as_missing('a_admin', q{SELECT frt.grant_application('b_enr', 'a_door', ARRAY['enrol'])},
	q{SELECT frt.grant_application('no_enr', 'a_door', ARRAY['enrol'])}, 'b_enr', 'no_enr',
	"Alpha grants its purpose to Beta's login");
same_as_missing('a_admin', q{SELECT frt.bind_device('a_cam', 'b_enr')},
	q{SELECT frt.bind_device('a_cam', 'no_enr')}, 'b_enr', 'no_enr', "Alpha binds Beta's login to its device");
is(as('a_admin', q{SELECT frt.revoke_application('b_enr', 'b_door')}), '{}',
	"Alpha's revocation of Beta's grant finds nothing");
is(as('a_aud', q{SELECT count(*) FROM frt.app_grant WHERE purpose = 'b_door'}), '0', "Alpha sees no grant of Beta's");
is(as('a_aud', q{SELECT count(*) FROM frt.device_login WHERE device = 'b_cam'}), '0', "nor Beta's bindings");
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.app_grant WHERE purpose = 'b_door'}), '2',
	"Beta's grants are intact");

# ---- the security incident register (Art. 9) ----
same_as_missing('a_admin', q{SELECT frt.record_incident('leak', ARRAY['b_door'])},
	q{SELECT frt.record_incident('leak', ARRAY['no_door'])}, 'b_door', 'no_door',
	"Alpha records an incident on Beta's purpose");
like(as('b_admin', q{SELECT frt.record_incident('database copied')}), qr/^\d+$/,
	'Beta records a major incident touching all its purposes');
is(as('b_aud', q{SELECT string_agg(purpose, ',') FROM frt.security_incident_purpose}), 'b_door',
	"Beta's incident with no purposes named touches Beta's purposes only");
is(as('a_aud', q{SELECT count(*) FROM frt.security_incident}), '0', "Alpha sees no incident of Beta's");
is(as('a_aud', q{SELECT count(*) FROM frt.security_incident_purpose}), '0', "nor the purposes it touches");
is(as('b_aud', q{SELECT count(*) FROM frt.security_incident}), '1', 'Beta sees its incident');
is(as('a_aud', q{SELECT count(*) FROM frt.reassessment_due()}), '0', "Alpha owes no re-assessment for Beta's incident");
is(as('b_aud', q{SELECT string_agg(purpose, ',') FROM frt.reassessment_due()}), 'b_door', 'Beta owes one');
is(as('a_admin', q{SELECT frt.has_current_assessment('a_door')}), 't', "Alpha's assessment is not voided");
is(as('a_aud', q{SELECT detail FROM frt.compliance_report() WHERE check_name = 'security_incidents'}),
	'0 security incidents recorded (0 major); the register is kept as recorded', "Alpha's report counts none of Beta's");
is(as('a_aud', q{SELECT status FROM frt.compliance_report() WHERE check_name = 'reassessment_after_incident'}),
	'ok', "Alpha's report names no purpose of Beta's awaiting re-assessment");
$node->safe_psql('postgres', q{SELECT frt._alert('test_alert', 'b_door', NULL, NULL, '{}')});
my $bseq = $node->safe_psql('postgres', q{SELECT max(seq) FROM frt.alert WHERE purpose = 'b_door'});
same_as_missing('a_admin', "SELECT frt.open_incident($bseq)", 'SELECT frt.open_incident(999999999)',
	$bseq, '999999999', "Alpha opens an incident from Beta's alert");
same_as_missing('a_admin', "SELECT frt.record_incident('x', ARRAY['a_door'], true, NULL, $bseq)",
	"SELECT frt.record_incident('x', ARRAY['a_door'], true, NULL, 999999999)", $bseq, '999999999',
	"Alpha records an incident citing Beta's alert");
like(as('b_admin', "SELECT frt.open_incident($bseq, 'camera stolen', false)"), qr/^\d+$/,
	"Beta opens an incident from its alert");

# ---- the register of persons' requests (Art. 17) ----
my $breq = as('b_admin', q{SELECT frt.record_request('complaint', 'email', 'too many cameras', 'u1', 'b_door')});
like($breq, qr/^\d+$/, 'Beta records a complaint of its u1');
same_as_missing('a_admin', "SELECT frt.update_request($breq, 'in_progress')",
	'SELECT frt.update_request(999999999, \'in_progress\')', $breq, '999999999', "Alpha moves Beta's request on");
same_as_missing('a_admin', q{SELECT frt.record_request('complaint', 'email', 'x', NULL, 'b_door')},
	q{SELECT frt.record_request('complaint', 'email', 'x', NULL, 'no_door')}, 'b_door', 'no_door',
	"Alpha records a request for Beta's purpose");
same_as_missing('a_admin', q{SELECT frt.record_request('complaint', 'email', 'x', 'b_only')},
	q{SELECT frt.record_request('complaint', 'email', 'x', 'nobody')}, 'b_only', 'nobody',
	"Alpha records a request of Beta's subject");
like(as('a_admin', q{SELECT frt.record_request('access', 'web', 'what do you hold', 'u1')}), qr/^\d+$/,
	"Alpha records a request of its own u1");
is(as('a_aud', q{SELECT string_agg(kind, ',') FROM frt.request}), 'access', "Alpha sees only its own requests");
is(as('b_aud', q{SELECT string_agg(kind, ',') FROM frt.request}), 'complaint', 'Beta sees only its own');
is(as('a_aud', q{SELECT detail FROM frt.compliance_report() WHERE check_name = 'requests_answered'}) =~ /^1 complaints/
	? 'one' : 'other', 'one', "Alpha's report counts its own open request only");

# ---- the subject report (PIPL Art. 44, 45) ----
same_as_missing('a_admin', q{SELECT frt.subject_report('b_only')}, q{SELECT frt.subject_report('nobody')},
	'b_only', 'nobody', "Alpha asks for the report of Beta's subject");
same_as_missing('a_enr', q{SELECT frt.subject_report_document('b_only')},
	q{SELECT frt.subject_report_document('nobody')}, 'b_only', 'nobody', "Alpha asks for the document of Beta's subject");
my $r = as('a_admin', q{SELECT frt.subject_report('u1')});
like($r, qr/a_door/, "Alpha's report of its u1 shows its purpose");
unlike($r, qr/b_door|Beta Co|too many cameras|complaint/, "and nothing of Beta's u1");
is(as('a_admin', q{SELECT jsonb_array_length(r->'faces') || '/' || jsonb_array_length(r->'consents') || '/'
	|| jsonb_array_length(r->'requests') FROM frt.subject_report('u1') r}), '1/1/1',
	"Alpha's u1: one face, one consent, one request");
unlike(as('a_enr', q{SELECT frt.subject_report_document('u1')}), qr/b_door|Beta Co|too many cameras/,
	"Alpha's document of its u1 names nothing of Beta's");
like(as('b_admin', q{SELECT frt.subject_report('u1')}), qr/too many cameras|b_door/, "Beta's u1 report is Beta's");

# ---- the filing materials (Art. 15) ----
$node->safe_psql('postgres', q{SET frt.processor = 'Beta Co';
	SELECT frt.record_filing('initial', current_date, 'CAC-B');
	RESET frt.processor;
	UPDATE frt.purpose SET method = '1:1 at the door' WHERE name = 'b_door'});
is($node->safe_psql('postgres', q{SELECT string_agg(processor || ' ' || kind || ' ' || purpose, ',') FROM frt.filing}),
	'Beta Co change b_door', "a change of Beta's purpose opens Beta's change filing");
is(as('a_aud', q{SELECT detail FROM frt.compliance_report() WHERE check_name = 'filings_open'}),
	'no change or cancellation filing is open', "Alpha's report shows none of Beta's filings");
is(as('a_admin', q{SELECT count(*) FROM frt.filing}), '0', "Alpha reads none of Beta's filings");
same_as_missing('a_admin', q{SELECT frt.filing_materials('Beta Co')}, q{SELECT frt.filing_materials('Gamma Co')},
	'Beta Co', 'Gamma Co', "Alpha asks for Beta's filing materials");
same_as_missing('a_admin', q{SELECT frt.filing_materials_document('Beta Co')},
	q{SELECT frt.filing_materials_document('Gamma Co')}, 'Beta Co', 'Gamma Co',
	"Alpha asks for Beta's filing document");
my $m = as('a_admin', q{SELECT frt.filing_materials()});
like($m, qr/"processor": "Alpha Co"/, "Alpha's materials are Alpha's");
unlike($m, qr/b_door|Beta Co|b_admin|b_enr/, "and name nothing of Beta's");
is(as('a_admin', q{SELECT m->'storage_scale_and_security_measures'->'storage'->>'processor_people_stored'
	FROM frt.filing_materials() m}), '2', "Alpha's people stored are its own");
is($node->safe_psql('postgres', q{SELECT m->'storage_scale_and_security_measures'->'storage'->>'processor_people_stored'
	FROM frt.filing_materials('Beta Co') m}), '2', "a superuser's materials for Beta count Beta's");
unlike(as('a_admin', q{SELECT frt.filing_materials_document()}), qr/b_door|Beta Co/,
	"Alpha's filing document names nothing of Beta's");

done_testing();
