# Concurrent enrolment, matching, withdrawal and erasure (pgbench, 4
# clients): the Art. 15 subject count stays exact, no face of a withdrawn
# consent is ever matched after its withdrawal committed, and every face left
# belongs to a registered subject.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('govconc');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\nmax_connections = 20\nclient_min_messages = warning");
gov_keys($node);
$node->start;

my $fixture = PostgreSQL::Test::Utils::slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/4/g;
$node->safe_psql('postgres', $fixture);
$node->safe_psql('postgres', q{
	SELECT frt.register_subject('s' || i, '1980-01-01') FROM generate_series(1, 50) i;
	-- a log of matches, to compare with withdrawal times afterwards
	CREATE TABLE matched (subject text, at timestamptz DEFAULT clock_timestamp());
	-- run one operation; the races this test provokes end in clean errors
	-- (the subject was just erased, the consent just withdrawn ...): count them
	CREATE TABLE outcome (sqlstate text);
	CREATE FUNCTION try_op(q text) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
		EXECUTE q;
		INSERT INTO outcome VALUES ('00000');
	EXCEPTION WHEN SQLSTATE 'MF004' OR SQLSTATE 'MF006' OR foreign_key_violation OR no_data_found
			OR unique_violation THEN
		INSERT INTO outcome VALUES (SQLSTATE);
	END $$;
});

# Each transaction picks one of 50 subjects and does one thing to it.
my %script = (
	'001_enroll' => q{
\set s random(1, 50)
SELECT try_op('SELECT frt.give_consent(''s:s'', p, ''self'', ''written'') FROM unnest(ARRAY[''door'', ''gate'']) p');
SELECT try_op('SELECT frt.enroll(''s:s'', ''door'', ''[:s,1,0,1]'', ''d1'')');
SELECT try_op('SELECT frt.enroll(''s:s'', ''gate'', ''[:s,1,0,1]'', ''cam'')');
},
	'002_identify@3' => q{
\set s random(1, 50)
INSERT INTO matched (subject) SELECT subject FROM frt.identify('gate', '[:s,1,0,1]', 'cam', 3, 0.999);
},
	'003_withdraw' => q{
\set s random(1, 50)
SELECT try_op('SELECT frt.withdraw_consent(''s:s'', NULL)');
},
	'004_erase' => q{
\set s random(1, 50)
BEGIN;
SELECT try_op('SELECT frt.erase_subject(''s:s'')');
SELECT try_op('SELECT frt.register_subject(''s:s'', ''1980-01-01'')');
COMMIT;
},
	'005_purge' => q{
SELECT frt._face_purge(50);
},
);
$node->pgbench('--no-vacuum --client=4 --jobs=2 --transactions=150', 0,
	[qr{processed: 600/600}], [qr{^$}], 'concurrent enrol, identify, withdraw, erase, purge', \%script);

is($node->safe_psql('postgres', q{
	SELECT (SELECT stored_subjects FROM frt.filing_state) = (SELECT count(DISTINCT subject) FROM frt.face)}),
	't', 'Art. 15 subject count stays exact under concurrency');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM frt.face f WHERE NOT EXISTS (SELECT 1 FROM frt.subject s WHERE s.id = f.subject)}),
	'0', 'no face outlives its subject');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM frt.consent GROUP BY subject, purpose HAVING count(*) FILTER (WHERE withdrawn_at IS NULL) > 1}),
	'', 'at most one active consent per subject and purpose');
# a match logged after a withdrawal of the same subject's gate consent
# committed (and with no newer consent) would be a match without consent
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM matched m
	WHERE EXISTS (SELECT 1 FROM frt.audit a
				  WHERE a.event = 'consent' AND a.outcome = 'withdrawn' AND a.subject = m.subject
					AND a.purpose = 'gate' AND a.at < m.at - interval '100 ms'
					AND NOT EXISTS (SELECT 1 FROM frt.audit b
									WHERE b.event = 'consent' AND b.outcome IN ('given', 'renewed')
									  AND b.subject = m.subject AND b.purpose = 'gate' AND b.at > a.at))}),
	'0', 'no identification after a committed withdrawal');
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM matched}), '>', 0, 'identifications happened');
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM outcome WHERE sqlstate = '00000'}), '>', 100,
	'most operations succeeded');
note($node->safe_psql('postgres', q{SELECT string_agg(sqlstate || ' ' || n, ', ') FROM
	(SELECT sqlstate, count(*) n FROM outcome GROUP BY 1 ORDER BY 1) o}));

$node->safe_psql('postgres', 'SELECT frt._face_purge(100000)');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM frt.face f JOIN frt.consent c ON c.id = f.consent_id WHERE c.withdrawn_at IS NOT NULL}),
	'0', 'the purge leaves no face of a withdrawn consent');

done_testing();
