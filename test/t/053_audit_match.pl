# With the governance layer present: a verification or identification whose
# transaction rolls back, or whose session is killed, is still on record,
# and the probe never reaches the server log (log_statement = all).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('audit_match');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\nlog_statement = all\n");
gov_keys($node);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION frt_governance CASCADE');
if ($node->safe_psql('postgres', "SELECT to_regprocedure('frt.verify(text,text,frt.face_embedding,text)') IS NULL") eq 't')
{
	$node->stop;
	plan skip_all => 'governance layer (frt.verify) not built';
}

$node->safe_psql('postgres', q{
INSERT INTO frt.processor VALUES ('Acme Ltd', 'dpo@acme.example');
INSERT INTO frt.purpose (name, kind, description, method, retention, minor_retention,
	alternative_method, dimension, storage_legal_basis)
VALUES ('a_door', 'verification', 'office door', '1:1 at the door', '1 year', '90 days', 'badge', 4, 'a regulation');
INSERT INTO frt.purpose (name, kind, description, method, retention, serves_public_security, dimension,
	storage_legal_basis)
VALUES ('a_hall', 'identification', 'find persons', '1:N in the hall', '30 days', true, 4, 'a regulation');
SELECT frt.publish_notice('a_door', 'We compare your face.', '1:1', '1 year', 'low', 'dpo', 'large print and audio at the desk');
SELECT frt.publish_notice('a_hall', 'Faces are compared.', '1:N', '30 days', 'security', 'dpo', 'large print and audio at the desk');
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('a_door', 'dpo', 'PIA'), ('a_hall', 'dpo', 'PIA');
INSERT INTO frt.device (name, location_type) VALUES ('a_office', 'workplace');
INSERT INTO frt.device (name, location_type, capture_area, signage) VALUES ('a_gate', 'public_place', 'gates', true);
SELECT frt.register_subject('a_s1', '1990-01-01');
SELECT frt.give_consent('a_s1', 'a_door', 'self', 'written');
SELECT frt.give_consent('a_s1', 'a_hall', 'self', 'written');
SELECT frt.enroll('a_s1', 'a_door', '[0.6,0.8,0.0,0.0]', 'a_office');
SELECT frt.enroll('a_s1', 'a_hall', '[0.6,0.8,0.0,0.0]', 'a_gate');
});
my $probe = "'[0.6123457,0.7891234,0.0312345,0.0]'";

sub matches
{
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM frt.audit WHERE event = 'match' AND purpose = '$_[0]'");
}

my $v0 = matches('a_door');
my $r = $node->safe_psql('postgres', qq{
BEGIN;
SELECT matched FROM frt.verify('a_s1', 'a_door', $probe, 'a_office');
ROLLBACK;
});
is($r, 't', 'verification matched');
is(matches('a_door'), $v0 + 1, 'verification of a rolled-back transaction is on record');

my $i0 = matches('a_hall');
$r = $node->safe_psql('postgres', qq{
BEGIN;
SELECT subject FROM frt.identify('a_hall', $probe, 'a_gate', 1);
ROLLBACK;
});
is($r, 'a_s1', 'identification found the subject');
is(matches('a_hall'), $i0 + 1, 'identification of a rolled-back transaction is on record');

# Killed session with the transaction still open.
my $bg = $node->background_psql('postgres');
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_safe('BEGIN');
$bg->query_safe("SELECT * FROM frt.verify('a_s1', 'a_door', $probe, 'a_office')");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
eval { $bg->quit };
is(matches('a_door'), $v0 + 2, 'verification of a killed session is on record');

is($node->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'), 't', 'chain intact');
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.audit WHERE detail::text ~ '0\.6123457|0\.7891234'}),
	'0', 'no probe value in the audit trail');
my $log = slurp_file($node->logfile);
unlike($log, qr/0\.6123457|0\.7891234|0\.0312345/, 'no probe value in the server log');

$node->stop;
done_testing();
