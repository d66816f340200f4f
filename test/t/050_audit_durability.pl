# Audit records survive the caller's rollback, a killed session and a crash;
# audit_event fails closed when the record cannot be committed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('audit_durable');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION frt_governance CASCADE');

sub count_event
{
	my ($event) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM frt.audit WHERE event = '$event'");
}

# 1. A match whose transaction rolls back is still on record.
my $seq = $node->safe_psql('postgres', q{
BEGIN;
SELECT frt.audit_event('identify', 'match', 'door', 'subj-1', 'cam-1', 0.93);
ROLLBACK;
});
like($seq, qr/^\d+$/, 'audit_event returned a sequence number');
is(count_event('identify'), '1', 'record survives the rollback of its transaction');

# ... also when the transaction fails afterwards.
my ($ret, $out, $err) = $node->psql('postgres', q{
BEGIN;
SELECT frt.audit_event('verify', 'refused', 'door', 'subj-2', NULL, NULL, 'MF006');
SELECT 1/0;
COMMIT;
});
like($err, qr/division by zero/, 'transaction failed after the record');
is(count_event('verify'), '1', 'record survives the failed transaction');

# 2. A session killed right after the match (transaction still open).
my $bg = $node->background_psql('postgres');
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_safe('BEGIN');
$bg->query_safe(q{SELECT frt.audit_event('verify', 'match', 'door', 'subj-3', 'cam-2', 0.88)});
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
eval { $bg->quit };
is($node->safe_psql('postgres',
	"SELECT count(*) FROM frt.audit WHERE subject = 'subj-3'"),
	'1', 'record survives pg_terminate_backend of an open transaction');

# 3. A session killed while it waits: the record is still written.
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE frt.audit IN ACCESS EXCLUSIVE MODE');
my $waiter = $node->background_psql('postgres', on_error_stop => 0);
my $wpid = $waiter->query_safe('SELECT pg_backend_pid()');
$waiter->query_until(qr/sent/, q{
\echo sent
SELECT frt.audit_event('verify', 'match', 'door', 'subj-4', 'cam-2', 0.8);
});
$node->poll_query_until('postgres',
	"SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $wpid")
  or die 'waiter did not start waiting';
$node->safe_psql('postgres', "SELECT pg_terminate_backend($wpid)");
$locker->query_safe('COMMIT');
$locker->quit;
eval { $waiter->quit };
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM frt.audit WHERE subject = 'subj-4'")
  or die 'orphaned record not written';
pass('record of a session killed while waiting is written');

# 4. Fail closed: the worker cannot commit within frt.audit_timeout.
$locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE frt.audit IN ACCESS EXCLUSIVE MODE');
($ret, $out, $err) = $node->psql('postgres', q{
SET frt.audit_timeout = '300ms';
SELECT frt.audit_event('verify', 'match', 'door', 'subj-5');
});
isnt($ret, 0, 'audit_event fails when its record cannot be committed');
like($err, qr/audit trail unavailable.*did not confirm/, 'fail-closed error message');
$locker->query_safe('COMMIT');
$locker->quit;
is($node->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'),
	't', 'chain intact after the timeout');

# 5. A crash (immediate stop) right after a match: the record is there.
$seq = $node->safe_psql('postgres',
	q{SELECT frt.audit_event('identify', 'match', 'gate', 'subj-6', 'cam-3', 0.97)});
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', "SELECT subject FROM frt.audit WHERE seq = $seq"),
	'subj-6', 'record present after crash and restart');
is($node->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'),
	't', 'chain intact after crash recovery');
$seq = $node->safe_psql('postgres', q{SELECT frt.audit_event('identify', 'no match')});
ok($seq > 0, 'audit works again after restart');

# 6. Eight concurrent clients: every record written once, chain linear.
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM frt.audit');
$node->pgbench(
	'--no-vacuum --client=8 --jobs=2 --transactions=50',
	0, [qr{processed: 400/400}], [qr{^$}],
	'8 concurrent clients record',
	{
		'050_audit' => q{SELECT frt.audit_event('verify', 'match', 'bench', :client_id::text, NULL, 0.5);}
	});
is($node->safe_psql('postgres', 'SELECT count(*) FROM frt.audit') - $before,
	400, 'all 400 concurrent records present');
is($node->safe_psql('postgres',
	'SELECT max(seq) - min(seq) + 1 = count(*) FROM frt.audit'),
	't', 'no gaps in sequence numbers');
is($node->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'),
	't', 'chain intact after concurrent writers');

# 7. No worker can be started: fail closed, nothing recorded.
$node->append_conf('postgresql.conf', "max_worker_processes = 0\n");
$node->restart;
$before = $node->safe_psql('postgres', 'SELECT count(*) FROM frt.audit');
($ret, $out, $err) = $node->psql('postgres', q{SELECT frt.audit_event('verify', 'match', 'door', 'subj-7')});
isnt($ret, 0, 'audit_event fails when no audit worker can start');
like($err, qr/could not start the audit worker/, 'error names the cause');
like($err, qr/max_worker_processes/, 'error hints at max_worker_processes');
is($node->safe_psql('postgres', 'SELECT count(*) FROM frt.audit'), $before, 'nothing recorded');
$node->stop;

# 8. Without shared_preload_libraries: fail closed with a clear error.
my $plain = PostgreSQL::Test::Cluster->new('audit_plain');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION frt_governance CASCADE');
($ret, $out, $err) = $plain->psql('postgres',
	q{SELECT frt.audit_event('verify', 'match')}, extra_params => ['-v', 'VERBOSITY=verbose']);
isnt($ret, 0, 'audit_event fails without shared_preload_libraries');
like($err, qr/MF140: audit trail unavailable: frt_governance is not loaded through shared_preload_libraries/,
	'error names the cause');
like($err, qr/HINT:\s+Add frt_governance to shared_preload_libraries/, 'error hints at the fix');
is($plain->safe_psql('postgres', 'SELECT count(*) FROM frt.audit'), '0', 'nothing recorded');
$plain->stop;

done_testing();
