# Several personal-information processors in one database: two processors,
# Alpha and Beta, each with its own logins (bound with frt.processor_login),
# registry, subjects (both have a subject "u1"), consents, faces, audit
# records, alerts and filings.  Every role of Alpha attacks Beta: direct
# SELECT/INSERT/UPDATE/DELETE on every governance table, every public
# function with Beta's purpose, subject and device names, the subject-id
# collision oracle, audit and alert visibility, filing counts.  An unbound
# login sees nothing once there are two processors.  pg_dump/restore keeps
# the bindings and the policies, and a standby enforces them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('tenants');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;

my %roles = (admin => 'frt_admin', enr => 'frt_enroller', match => 'frt_matcher', aud => 'frt_auditor');
my $setup = q{
	CREATE EXTENSION frt_governance CASCADE;
	INSERT INTO frt.processor (name, contact) VALUES ('Alpha Co', 'dpo@alpha.example');
	INSERT INTO frt.processor (name, contact) VALUES ('Beta Co', 'dpo@beta.example');
	CREATE ROLE stray LOGIN IN ROLE frt_admin, frt_enroller, frt_matcher, frt_auditor;
};
for my $t ('a', 'b')
{
	my $proc = $t eq 'a' ? 'Alpha Co' : 'Beta Co';
	for my $r (sort keys %roles)
	{
		$setup .= "CREATE ROLE ${t}_$r LOGIN IN ROLE $roles{$r};\n";
		$setup .= "SELECT frt.processor_login('${t}_$r', '$proc');\n";
	}
	# a second administrator approves what the first registers (four eyes)
	$setup .= "CREATE ROLE ${t}_admin2 LOGIN IN ROLE frt_admin;\n";
	$setup .= "SELECT frt.processor_login('${t}_admin2', '$proc');\n";
}
$node->safe_psql('postgres', $setup);

# Run SQL as a login; returns stdout, or 'ERROR <SQLSTATE>: message'.
sub as
{
	my ($role, $sql, $db) = @_;
	my ($rc, $out, $err) = $node->psql($db // 'postgres', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $role ], on_error_stop => 1);
	return $out if $rc == 0;
	my ($state, $msg) = $err =~ /ERROR:\s+([0-9A-Z]{5}):\s*([^\n]*)/;
	return 'ERROR ' . ($state // '?') . ': ' . ($msg // $err);
}

# Each processor's administrator registers its world; both name their
# camera "cam" (device names are per processor).
for my $t ('a', 'b')
{
	is(as("${t}_admin", qq{
		INSERT INTO frt.purpose (name, kind, description, method, retention, alternative_method, storage_legal_basis)
		VALUES ('${t}_door', 'verification', 'door', '1:1', '1 year', 'badge', 'a regulation');
		INSERT INTO frt.purpose (name, kind, description, method, retention, storage_legal_basis)
		VALUES ('${t}_hall', 'identification', 'hall', '1:N', '30 days', 'a regulation');
		SELECT frt.publish_notice(p, 'notice', 'm', '1 year', 'low', 'write to dpo', 'large print') FROM unnest(ARRAY['${t}_door', '${t}_hall']) p;
		INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('${t}_door', 'dpo', 'PIA'), ('${t}_hall', 'dpo', 'PIA');
		INSERT INTO frt.device (name, location_type) VALUES ('cam', 'workplace'), ('${t}_cam', 'workplace');
		SELECT count(frt.grant_application('${t}_' || r, p, ARRAY['enrol', 'verify', 'identify', 'export']))
		  FROM unnest(ARRAY['enr', 'match', 'admin']) r, unnest(ARRAY['${t}_door', '${t}_hall']) p;
		SELECT count(frt.bind_device(d, '${t}_' || r))
		  FROM unnest(ARRAY['enr', 'match', 'admin']) r, unnest(ARRAY['cam', '${t}_cam']) d;
		SELECT 'ok'}) =~ s/.*\n//sr, 'ok', "$t: the administrator registers its purposes, notices, assessments and devices");
	is(as("${t}_admin2", qq{
		SELECT count(*) FILTER (WHERE frt.approve_purpose(p)) FROM unnest(ARRAY['${t}_door', '${t}_hall']) p;
		SELECT count(*) FILTER (WHERE frt.approve_device(d)) FROM unnest(ARRAY['cam', '${t}_cam']) d;}),
		"2\n2", "$t: a second administrator approves them");
	is(as("${t}_enr", qq{
		SELECT frt.register_subject(s, '1990-01-01') FROM unnest(ARRAY['u1', 'u2', '${t}_only']) s;
		SELECT frt.give_consent(s, p, 'self', 'written', p_transfer_consent => true)
		  FROM unnest(ARRAY['u1', 'u2', '${t}_only']) s, unnest(ARRAY['${t}_door', '${t}_hall']) p;
		SELECT frt.enroll('u1', '${t}_door', '[1,0,0,0]', 'cam');
		SELECT frt.enroll('u1', '${t}_hall', '[1,0,0,0]', 'cam');
		SELECT frt.enroll('${t}_only', '${t}_hall', '[0,1,0,0]', 'cam');
		SELECT 'ok'}) =~ s/.*\n//sr, 'ok', "$t: subject u1 registered, consented and enrolled");
}
like(as('a_enr', q{SELECT frt.register_subject('b_only', '1990-01-01')}), qr/^b_only$/m,
	'no collision oracle: Alpha registers an id that only Beta has');
$node->safe_psql('postgres', q{SELECT frt._alert('test_alert', 'b_door', 'u1', NULL, '{}')});
# an alert about a caller, naming no purpose (as the rate rules raise them)
$node->safe_psql('postgres', q{
	CREATE FUNCTION public.raise_role_alert() RETURNS void SECURITY DEFINER LANGUAGE sql
		AS $$ SELECT frt._alert('test_role_alert', NULL, NULL, NULL, '{}') $$;
	GRANT EXECUTE ON FUNCTION public.raise_role_alert() TO b_match});
is(as('b_match', q{SELECT public.raise_role_alert()}), '', 'b_match raises an alert naming no purpose');
$node->safe_psql('postgres', q{SELECT frt._alert('test_alert', 'a_door', 'u1', NULL, '{}')});

# Beta's rows as seen by each table's predicate.
my %beta = (
	processor => q{name = 'Beta Co'},
	processor_login => q{processor = 'Beta Co'},
	purpose => q{processor = 'Beta Co'},
	device => q{processor = 'Beta Co'},
	notice => q{purpose LIKE 'b\_%'},
	assessment => q{purpose LIKE 'b\_%'},
	subject => q{processor = 'Beta Co'},
	consent => q{processor = 'Beta Co'},
	face => q{processor = 'Beta Co'},
	decline => q{processor = 'Beta Co'},
	filing_state => q{processor = 'Beta Co'},
	filing => q{processor = 'Beta Co'},
	purpose_termination => q{purpose LIKE 'b\_%'},
	erasure_log => q{purpose LIKE 'b\_%'},
	audit => q{purpose LIKE 'b\_%' OR detail->>'processor' = 'Beta Co'},
	alert => q{purpose LIKE 'b\_%' OR detail->>'processor' = 'Beta Co'},
	intrusion_policy => q{role_name LIKE 'b\_%'},
	intrusion_counter => q{role_name LIKE 'b\_%'},
);
$node->safe_psql('postgres', q{
	INSERT INTO frt.intrusion_policy (role_name) VALUES ('a_match'), ('b_match');
	SELECT frt.record_decline('b_door', 'u1', 'cam');
	-- a change filing follows Beta's initial filing (a superuser acting for Beta)
	SET frt.processor = 'Beta Co';
	SELECT frt.record_filing('initial', current_date, 'CAC-B');
	RESET frt.processor;
	SELECT frt.open_filing('change', 'b_door');
});
for my $tab (sort keys %beta)
{
	my $total = $node->safe_psql('postgres', "SELECT count(*) FROM frt.$tab WHERE $beta{$tab}");
	for my $r (sort keys %roles)
	{
		my $role = "a_$r";
		my $priv = $node->safe_psql('postgres', "SELECT has_table_privilege('$role', 'frt.$tab', 'SELECT')");
		next unless $priv eq 't';
		my $sql = $tab eq 'face'
		  ? "SELECT count(*) FROM (SELECT id, processor, purpose FROM frt.face) f WHERE $beta{$tab}"
		  : "SELECT count(*) FROM frt.$tab WHERE $beta{$tab}";
		is(as($role, $sql), "0", "$role sees none of Beta's $total rows of frt.$tab");
	}
}
# Alpha sees its own rows.
is(as('a_admin', q{SELECT string_agg(name, ',' ORDER BY name) FROM frt.purpose}), 'a_door,a_hall',
	'a_admin sees its own purposes');
is(as('a_aud', q{SELECT count(*) > 0 FROM frt.audit WHERE purpose = 'a_door'}), 't', 'a_aud reads its own audit records');
is(as('a_aud', q{SELECT count(*) FROM frt.alert WHERE purpose = 'a_door'}), '1', 'a_aud sees its own alert');
is(as('b_aud', q{SELECT count(*) FROM frt.alert WHERE purpose = 'b_door'}), '1', 'b_aud sees its own alert');
is(as('b_aud', q{SELECT count(*) FROM frt.alert WHERE kind = 'test_role_alert'}), '1',
	"b_aud sees the alert about its processor's login");
is(as('a_aud', q{SELECT count(*) FROM frt.alert WHERE kind = 'test_role_alert'}), '0',
	"a_aud does not see the alert about Beta's login");
is(as('a_enr', q{SELECT count(*) FROM frt.subject WHERE id = 'u1'}), '1', 'a_enr sees one u1: its own');

# Direct writes into Beta, or moving a row to Beta.
my @writes = (
	[ 'a_admin', q{INSERT INTO frt.purpose (name, processor, kind, description, method, retention, alternative_method)
		VALUES ('x_door', 'Beta Co', 'verification', 'd', 'm', '1 year', 'badge')} ],
	[ 'a_admin', q{INSERT INTO frt.device (name, processor, location_type) VALUES ('x_cam', 'Beta Co', 'workplace')} ],
	[ 'a_admin', q{INSERT INTO frt.notice (purpose, body, processing_method, retention_statement,
		necessity_and_impact, rights_procedure) VALUES ('b_door', 'b', 'm', 'r', 'n', 'p')} ],
	[ 'a_admin', q{INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('b_door', 'x', 'x')} ],
	[ 'a_admin', q{UPDATE frt.purpose SET processor = 'Beta Co' WHERE name = 'a_door'} ],
	[ 'a_admin', q{UPDATE frt.device SET processor = 'Beta Co' WHERE name = 'a_cam'} ],
	[ 'a_admin', q{INSERT INTO frt.processor (name, contact) VALUES ('Gamma Co', 'x')} ],
	[ 'a_admin', q{INSERT INTO frt.intrusion_policy (role_name) VALUES ('b_enr')} ],
	[ 'a_admin', q{INSERT INTO frt.intrusion_policy (role_name) VALUES ('*')} ],
	[ 'a_admin', q{INSERT INTO frt.holiday (day, name) VALUES ('2031-01-01', 'x')} ],
	[ 'a_enr', q{INSERT INTO frt.subject (processor, id, birth_date) VALUES ('Beta Co', 'x1', '1990-01-01')} ],
	[ 'a_enr', q{INSERT INTO frt.consent (processor, subject, purpose, notice_version, given_by, obtained_how)
		VALUES ('Beta Co', 'u2', 'b_door', 1, 'self', 'written')} ],
	[ 'a_enr', q{INSERT INTO frt.consent (subject, purpose, notice_version, given_by, obtained_how)
		VALUES ('u2', 'b_door', 1, 'self', 'written')} ],
);
for my $w (@writes)
{
	like(as($w->[0], $w->[1]), qr/^ERROR (42501|23503|P0001|MF\w+)/, "$w->[0] cannot: " . ($w->[1] =~ s/\s+/ /gr));
}
my @silent = (
	[ 'a_admin', q{UPDATE frt.purpose SET description = 'x' WHERE name = 'b_door'} ],
	[ 'a_admin', q{DELETE FROM frt.device WHERE processor = 'Beta Co'} ],
	[ 'a_admin', q{UPDATE frt.processor SET contact = 'x' WHERE name = 'Beta Co'} ],
	[ 'a_admin', q{DELETE FROM frt.intrusion_policy WHERE role_name = 'b_match'} ],
	[ 'a_enr', q{UPDATE frt.consent SET withdrawn_at = now() WHERE purpose = 'b_door'} ],
);
my $beta_state_sql = q{SELECT md5(concat_ws('|',
	(SELECT string_agg(p::text, ',' ORDER BY name) FROM frt.purpose p WHERE processor = 'Beta Co'),
	(SELECT string_agg(d::text, ',' ORDER BY name) FROM frt.device d WHERE processor = 'Beta Co'),
	(SELECT string_agg(c::text, ',' ORDER BY id) FROM frt.consent c WHERE processor = 'Beta Co'),
	(SELECT string_agg(s::text, ',' ORDER BY id) FROM frt.subject s WHERE processor = 'Beta Co'),
	(SELECT string_agg(f.id || f.subject, ',' ORDER BY id) FROM frt.face f WHERE processor = 'Beta Co'),
	(SELECT string_agg(i::text, ',' ORDER BY role_name) FROM frt.intrusion_policy i),
	(SELECT string_agg(p::text, ',') FROM frt.processor p)))};
my $beta_state = $node->safe_psql('postgres', $beta_state_sql);
for my $w (@silent)
{
	like(as($w->[0], $w->[1]), qr/^$/, "$w->[0] reaches no row: " . ($w->[1] =~ s/\s+/ /gr));
}
is($node->safe_psql('postgres', $beta_state_sql), $beta_state, "Beta's rows unchanged by Alpha's writes");

# Every public function with Beta's names: refused as if they did not
# exist (MF160, the same message as for a name nobody registered).
my @calls = (
	[ 'a_enr', q{SELECT frt.enroll('u1', '%P', '[1,0,0,0]', 'cam')} ],
	[ 'a_match', q{SELECT * FROM frt.verify('u1', '%P', '[1,0,0,0]', 'cam')} ],
	[ 'a_match', q{SELECT * FROM frt.identify('%P', '[1,0,0,0]', 'cam')} ],
	[ 'a_enr', q{SELECT frt.give_consent('u2', '%P', 'self', 'written')} ],
	[ 'a_enr', q{SELECT frt.withdraw_consent('u1', '%P')} ],
	[ 'a_match', q{SELECT frt.record_decline('%P', 'u1', 'cam')} ],
	[ 'a_admin', q{SELECT * FROM frt.export_faces('u1', '%P')} ],
	[ 'a_admin', q{SELECT frt.publish_notice('%P', 'b', 'm', 'r', 'n', 'p')} ],
	[ 'a_admin', q{SELECT frt.void_assessment('%P', 'incident')} ],
	[ 'a_admin', q{SELECT frt.terminate_purpose('%P')} ],
	[ 'a_admin', q{SELECT frt.open_filing('change', '%P')} ],
	[ 'a_admin', q{SELECT frt.record_filing('change', current_date, 'REF', '%P')} ],
);
$beta_state = $node->safe_psql('postgres', $beta_state_sql);
for my $c (@calls)
{
	my ($role, $sql) = @$c;
	my $theirs = as($role, $sql =~ s/%P/b_door/r);
	my $nobody = as($role, $sql =~ s/%P/z_door/r);
	like($theirs, qr/^ERROR MF160: /, "$role: " . ($sql =~ s/%P/b_door/r) . ' refused MF160');
	is($theirs =~ s/b_door/NAME/gr, $nobody =~ s/z_door/NAME/gr, "$role: the same answer as for an unregistered purpose");
}
is($node->safe_psql('postgres', $beta_state_sql), $beta_state, "Beta's rows unchanged by the refused calls");
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.audit WHERE sqlstate = 'MF160'
	AND detail->>'processor' = 'Alpha Co' AND purpose IS NULL}), scalar(@calls) * 2,
	'each refusal is on record, for Alpha (the caller), naming no purpose of Beta');

# Devices are per processor: Beta's camera is unknown to Alpha.
is(as('a_enr', q{SELECT frt.enroll('u2', 'a_door', '[1,0,0,0]', 'b_cam')}) =~ s/b_cam/D/r,
	as('a_enr', q{SELECT frt.enroll('u2', 'a_door', '[1,0,0,0]', 'z_cam')}) =~ s/z_cam/D/r,
	"Beta's device: the same refusal as an unregistered one");
# Subjects are per processor: erasing Alpha's u1 leaves Beta's.
is(as('a_enr', q{SELECT frt.erase_subject('u1')}), '2', "Alpha erases its u1 (its two faces)");
is(as('b_match', q{SELECT matched FROM frt.verify('u1', 'b_door', '[1,0,0,0]', 'cam')}), 't',
	"Beta's u1 still verifies");
is(as('a_enr', q{SELECT frt.withdraw_consent('u2', NULL)}), '0', "Alpha withdraws its u2's consents");
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.consent WHERE processor = 'Beta Co'
	AND subject = 'u2' AND withdrawn_at IS NULL}), '2', "Beta's u2 keeps its consents");

# Filing counts per processor.
is(as('a_admin', q{SELECT stored_subjects FROM frt.filing_status()}), '1', "Alpha's filing count: its subjects");
is(as('b_admin', q{SELECT stored_subjects FROM frt.filing_status()}), '2', "Beta's filing count: its subjects");
is($node->safe_psql('postgres', q{SELECT string_agg(processor || '=' || stored_subjects, ',' ORDER BY processor)
	FROM frt.filing_state}), 'Alpha Co=1,Beta Co=2', 'filing_state: one row per processor');
is(as('a_admin', q{SELECT count(*) FROM frt.filing_check() WHERE purpose LIKE 'b\_%'}), '0',
	"Alpha's filing check shows none of Beta's obligations");
like(as('a_admin', q{SELECT detail FROM frt.compliance_report() WHERE check_name = 'purposes_registered'}),
	qr/^2 purposes/, "Alpha's compliance report counts its own purposes");
$node->safe_psql('postgres', q{UPDATE frt.purpose SET score_disclosure = 'exact', max_k = 50 WHERE name = 'b_hall';
	UPDATE frt.intrusion_policy SET identified_per_hour = NULL WHERE role_name = 'b_match'});
like(as('b_admin', q{SELECT detail FROM frt.compliance_report() WHERE check_name = 'identification_exposure'}),
	qr/b_hall.*b_hall.*b_match/, "Beta's compliance report names its exposed purpose and role");
unlike(as('a_admin', q{SELECT string_agg(detail, ' ') FROM frt.compliance_report()}), qr/b_hall|b_match|b_door/,
	"Alpha's compliance report names none of Beta's purposes or roles");

# An unbound login acts for nobody once there are two processors.
is(as('stray', q{SELECT count(*) FROM frt.purpose}), '0', 'an unbound login sees no purpose');
is(as('stray', q{SELECT count(*) FROM frt.audit}), '0', 'nor any audit record');
like(as('stray', q{SELECT frt.register_subject('s9', '1990-01-01')}), qr/^ERROR MF161:/,
	'and registers no subject');
like(as('stray', q{SELECT frt.enroll('u1', 'a_door', '[1,0,0,0]', 'cam')}), qr/^ERROR MF160:/,
	'and processes for no purpose');
like(as('a_admin', q{SELECT frt.processor_login('stray', 'Alpha Co')}), qr/^ERROR 42501:/,
	'only a superuser binds logins');
for my $f ('frt.purge()', 'frt.scrub_faces()', 'frt.key_rotate()', 'frt.key_destroy_unused()')
{
	like(as('a_admin', "SELECT $f"), qr/^ERROR 42501:/, "with several processors $f is the platform's");
}
is($node->safe_psql('postgres', q{SELECT ok FROM frt.verify_audit_chain()}), 't', 'audit chain intact');
is(as('a_aud', q{SELECT ok FROM frt.verify_audit_chain()}), 't', "a processor's auditor verifies the whole chain");

# pg_dump/restore keeps the bindings and the policies.
my $tmp = PostgreSQL::Test::Utils::tempdir;
$node->run_log([ 'pg_dump', '-F', 'c', '-f', "$tmp/dump.c", '-d', $node->connstr('postgres') ]);
$node->safe_psql('postgres', 'CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c frt.restore=on';
	$node->run_log([ 'pg_restore', '-d', $node->connstr('restored'), "$tmp/dump.c" ]);
}
is($node->safe_psql('restored', 'SELECT chain_ok FROM frt.restore_finish()'), 't', 'restore finished, chain verified');
my $facts = q{SELECT (SELECT string_agg(login || '>' || processor, ',' ORDER BY login) FROM frt.processor_login)
	|| ' / ' || (SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
				 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'frt')};
is($node->safe_psql('restored', $facts), $node->safe_psql('postgres', $facts), 'bindings and policies restored');
is(as('a_admin', q{SELECT string_agg(name, ',' ORDER BY name) FROM frt.purpose}, 'restored'), 'a_door,a_hall',
	'restored: a_admin sees its own purposes only');
is(as('a_enr', q{SELECT count(*) FROM frt.subject WHERE processor = 'Beta Co'}, 'restored'), '0',
	"restored: a_enr sees none of Beta's subjects");

# A standby enforces the same policies.
$node->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('tenants_standby');
$standby->init_from_backup($node, 'b1', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
my ($rc, $out, $err) = $standby->psql('postgres', q{SELECT string_agg(name, ',' ORDER BY name) FROM frt.purpose},
	extra_params => [ '-U', 'b_admin' ]);
is($out, 'b_door,b_hall', 'standby: b_admin sees its own purposes only');
($rc, $out, $err) = $standby->psql('postgres', q{SELECT count(*) FROM frt.subject WHERE processor = 'Alpha Co'},
	extra_params => [ '-U', 'b_enr' ]);
is($out, '0', "standby: b_enr sees none of Alpha's subjects");
$standby->stop;

$node->stop;
done_testing();
