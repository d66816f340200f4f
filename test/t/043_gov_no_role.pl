# A login with no frt role and no USAGE on schema frt works in a database
# where frt_governance is installed: its queries (plain, failing, with
# number lists the log filter looks at, utility statements, VACUUM) never
# reach a governance name lookup or SPI done as the user.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('norole');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\nlog_statement = all\n");
gov_keys($node);
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION frt_governance CASCADE;
	CREATE ROLE plain LOGIN;
	REVOKE USAGE ON SCHEMA frt FROM PUBLIC;
	GRANT CREATE ON SCHEMA public TO plain;
});
is($node->safe_psql('postgres', q{SELECT has_schema_privilege('plain', 'frt', 'USAGE')}), 'f',
	'plain has no USAGE on schema frt');

my @ok = (
	'SELECT 1',
	'SET extra_float_digits = 3',
	q{SELECT '[0.1,0.2,0.3,0.4]'::text},
	'CREATE TABLE mine (a int); VACUUM mine; ANALYZE mine; DROP TABLE mine',
	'BEGIN; SELECT 2; COMMIT',
	'DISCARD ALL',
);
for my $q (@ok)
{
	my ($rc, $out, $err) = $node->psql('postgres', $q, extra_params => [ '-U', 'plain' ]);
	is($rc, 0, "plain runs: $q");
	unlike($err, qr/permission denied for schema frt/, "no schema error: $q");
}
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT 1/0', extra_params => [ '-U', 'plain' ]);
like($err, qr/division by zero/, 'an error is reported as itself');
unlike($err, qr/permission denied for schema frt/, 'not as a schema error');

$node->stop;
done_testing();
