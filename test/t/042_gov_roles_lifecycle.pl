# The roles of frt_governance: created by CREATE EXTENSION when missing (and
# said so), reused when present, and named by DROP EXTENSION, which cannot
# drop cluster-wide roles, so nothing is left behind silently.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('roles');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;

my @roles = qw(frt_admin frt_audit_relay frt_auditor frt_enroller frt_matcher);
my $list = q{SELECT string_agg(rolname, ' ' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'frt\_%'};

my ($out, $err) = ('', '');
$node->psql('postgres', 'CREATE EXTENSION frt_governance CASCADE', stdout => \$out, stderr => \$err);
like($err, qr/NOTICE:\s+frt_governance created roles frt_admin, frt_enroller, frt_matcher, frt_auditor, frt_audit_relay/,
	'CREATE EXTENSION names the roles it created');
is($node->safe_psql('postgres', $list), join(' ', @roles), 'the five roles exist');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname LIKE 'frt\_%' AND rolcanlogin}),
	'0', 'all NOLOGIN');

# A second database reuses them and says nothing about creating.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->psql('other', 'CREATE EXTENSION frt_governance CASCADE', stdout => \$out, stderr => \$err);
unlike($err, qr/created roles/, 'existing roles are reused');

# DROP EXTENSION names the roles that remain, whichever way it is dropped.
$node->psql('other', 'DROP EXTENSION frt CASCADE', stdout => \$out, stderr => \$err);
like($err, qr/NOTICE:\s+roles frt_admin, frt_enroller, frt_matcher, frt_auditor, frt_audit_relay remain/,
	'DROP EXTENSION frt CASCADE names the remaining roles');
like($err, qr/HINT:\s+If no other database uses frt_governance, drop them with DROP ROLE/, 'and says how to remove them');
$node->psql('postgres', 'DROP EXTENSION frt_governance', stdout => \$out, stderr => \$err);
like($err, qr/roles frt_admin, .* remain/, 'DROP EXTENSION frt_governance names them too');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_extension WHERE extname = 'frt'}), '1',
	'the core stays installed');

# Once the DBA drops the roles, nothing is reported and a new install
# creates them again.
$node->safe_psql('postgres', join('; ', map { "DROP ROLE $_" } @roles));
$node->psql('postgres', 'CREATE EXTENSION frt_governance', stdout => \$out, stderr => \$err);
like($err, qr/created roles/, 'a new install creates the roles again');
$node->safe_psql('postgres', 'DROP EXTENSION frt_governance');
$node->safe_psql('postgres', join('; ', map { "DROP ROLE $_" } @roles));
$node->psql('postgres', 'DROP EXTENSION frt', stdout => \$out, stderr => \$err);
unlike($err, qr/remain/, 'dropping the core alone says nothing about roles');
is($node->safe_psql('postgres', $list), '', 'no frt role is left');

# DROP SCHEMA ... CASCADE removes both extensions: the roles are named too.
$node->safe_psql('postgres', 'CREATE DATABASE third');
$node->safe_psql('third', 'CREATE EXTENSION frt_governance CASCADE');
$node->psql('third', 'DROP SCHEMA frt CASCADE', stdout => \$out, stderr => \$err);
like($err, qr/roles frt_admin, .* remain/, 'DROP SCHEMA frt CASCADE names the remaining roles');

# A pre-existing role that can log in is reused, with a warning.
$node->safe_psql('third', 'DROP OWNED BY ' . join(', ', @roles));
$node->safe_psql('postgres', join('; ', map { "DROP ROLE $_" } @roles) . '; CREATE ROLE frt_matcher LOGIN');
$node->psql('third', 'CREATE EXTENSION frt_governance CASCADE', stdout => \$out, stderr => \$err);
like($err, qr/WARNING:\s+role frt_matcher exists and can log in/, 'a LOGIN role of that name draws a warning');
like($err, qr/created roles frt_admin, frt_enroller, frt_auditor, frt_audit_relay/,
	'and only the missing roles are created');

$node->stop;
done_testing();
