# Governance state survives pg_dump/restore (the registry, consents, faces
# and intrusion-detection limits are extension configuration tables), and
# the restored database enforces
# the same rules: forced row-level security, no embedding for any role,
# refusals with their MF SQLSTATE, withdrawal hiding faces at once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('gov');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'");
gov_keys($node);
$node->start;

my $fixture = PostgreSQL::Test::Utils::slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/4/g;
$node->safe_psql('postgres', $fixture);
$node->safe_psql('postgres', q{
	INSERT INTO frt.holiday (day, name) VALUES ('2024-10-01', 'National Day');
	SELECT frt.register_subject('s' || i, '1980-01-01') FROM generate_series(1, 20) i;
	SELECT frt.give_consent('s' || i, 'door', 'self', 'written', p_transfer_consent => i % 2 = 0)
	FROM generate_series(1, 20) i;
	SELECT frt.enroll('s' || i, 'door', ARRAY[i, 1, 0, i % 3]::float4[]::frt.face_embedding, 'd1')
	FROM generate_series(1, 20) i;
	SELECT frt.withdraw_consent('s20', 'door');
	INSERT INTO frt.intrusion_policy VALUES ('*', 600, 50, 3, '10 minutes', '20 minutes'),
		('gate', 100, NULL, NULL, '1 minute', '1 minute');
});

my $digest_sql = q{SELECT md5(concat_ws('|',
	(SELECT string_agg(p::text, ',' ORDER BY name) FROM frt.purpose p),
	(SELECT string_agg(n.purpose || n.version || n.body, ',' ORDER BY 1) FROM frt.notice n),
	(SELECT string_agg(c.subject || c.purpose || c.notice_version || c.transfer_consent
		|| coalesce(c.withdrawn_at::text, '-'), ',' ORDER BY c.id) FROM frt.consent c),
	(SELECT string_agg(f.id || f.subject || f.embedding::text || f.expires_at, ',' ORDER BY f.id)
	 FROM frt.face f),
	(SELECT string_agg(d.name || d.location_type, ',' ORDER BY 1) FROM frt.device d),
	(SELECT string_agg(h.day::text, ',' ORDER BY h.day) FROM frt.holiday h),	-- shipped and own days
	(SELECT stored_subjects FROM frt.filing_state),
	(SELECT string_agg(i::text, ',' ORDER BY role_name) FROM frt.intrusion_policy i)))};
my $digest = $node->safe_psql('postgres', $digest_sql);

my $tmp = PostgreSQL::Test::Utils::tempdir;
for my $fmt ('p', 'c')
{
	my $db = "restore_$fmt";
	$node->run_log([ 'pg_dump', '-F', $fmt, '-f', "$tmp/dump.$fmt", '-d', $node->connstr('postgres') ]);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	{
	local $ENV{PGOPTIONS} = '-c frt.restore=on';	# the explicit restore mode
	if ($fmt eq 'p')
	{
		$node->run_log([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/dump.p",
			'-d', $node->connstr($db) ]);
	}
	else
	{
		$node->run_log([ 'pg_restore', '-d', $node->connstr($db), "$tmp/dump.c" ]);
	}
	}
	is($node->safe_psql($db, 'SELECT chain_ok FROM frt.restore_finish()'), 't', "-F $fmt: restore finished, chain verified");
	is($node->safe_psql($db, $digest_sql), $digest, "pg_dump -F $fmt keeps registry, consents, faces and intrusion limits");
	is($node->safe_psql($db,
		q{SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'frt.face'::regclass}),
		't', "-F $fmt: row-level security still enabled and forced");
	is($node->safe_psql($db, q{SELECT matched FROM frt.verify('s3', 'door', '[3,1,0,0]', 'd1')}),
		't', "-F $fmt: verification works after restore");

	my ($rc, $out, $err) = $node->psql($db,
		q{SET ROLE frt_admin; SELECT embedding FROM frt.face LIMIT 1});
	like($err, qr/permission denied/, "-F $fmt: frt_admin still cannot select embeddings");
	($rc, $out, $err) = $node->psql($db,
		q{SET ROLE frt_matcher; SELECT count(*) FROM frt.consent});
	like($err, qr/permission denied/, "-F $fmt: frt_matcher still reads no table");
	is($node->safe_psql($db, q{SET ROLE frt_admin; SELECT count(*) FROM frt.face}),
		'19', "-F $fmt: the withdrawn face stays invisible");
	is($node->safe_psql($db, q{SET ROLE frt_admin; SELECT count(*) FROM frt.export_faces('s4', 'door')}),
		'1', "-F $fmt: export with transfer consent");

	($rc, $out, $err) = $node->psql($db,
		q{\set VERBOSITY verbose
		  SELECT frt.enroll('s1', 'door', '[1,1,1,1]', 'shower')});
	like($err, qr/MF013: .*\(Measures Art\. 13\)/, "-F $fmt: private-space device refused with MF013");
	($rc, $out, $err) = $node->psql($db,
		q{\set VERBOSITY verbose
		  SELECT * FROM frt.export_faces('s3', 'door')});
	like($err, qr/MF008: .*\(Measures Art\. 8\)/, "-F $fmt: export without transfer consent refused with MF008");

	# withdrawal after restore: hidden from the next statement on
	is($node->safe_psql($db, q{
		SELECT frt.withdraw_consent('s5', 'door');
		SET ROLE frt_admin;
		SELECT count(*) FROM frt.face WHERE subject = 's5'}), "1\n0",
		"-F $fmt: withdrawal hides the face at once");
	# new enrolments continue the restored sequences
	is($node->safe_psql($db, q{
		SELECT frt.register_subject('s21', '1990-01-01');
		SELECT frt.give_consent('s21', 'door', 'self', 'written') > 0;
		SELECT frt.enroll('s21', 'door', '[0,0,1,1]', 'd1') > 20}), "s21\nt\nt",
		"-F $fmt: enrolment after restore continues the id sequence");
}

done_testing();
