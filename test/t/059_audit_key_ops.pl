# The audit key and anchors in operation: a key from frt.audit_key_command
# (whose output never reaches the log, not even when it fails), an anchor
# command that fails or is slow (a WARNING; the next anchor covers the one
# skipped, and the writer is never held up), the key on streaming standbys
# (the same key verifies the primary's records there; a standby without it
# reports the chain as unkeyed), frt.restore_finish() on a server with
# another key (the MACs do not verify, recorded as a broken chain) and with
# the same key (verified), and DROP OWNED by the extension's owner and
# CREATE FUNCTION in the frt schema recorded as audit_ddl before they run.
use strict;
use warnings;
use Time::HiRes qw(sleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $outside = PostgreSQL::Test::Utils::tempdir;
sub new_key { return join('', map { sprintf('%02x', int(rand(256))) } 1 .. 32); }
my $key = new_key();
my $other_key = new_key();
sub key_file
{
	my ($name, @keys) = @_;
	open(my $kf, '>', "$outside/$name") or die;
	print $kf map { "$_\n" } @keys;
	close $kf;
	chmod 0400, "$outside/$name";
	return "$outside/$name";
}
my $kfile = key_file('audit.key', $key);
my $other_kfile = key_file('other.key', $other_key);
my $notary = "$outside/notary";

# 1. A key from a command; a failing command stops the start, its output unlogged.
my $bad = PostgreSQL::Test::Cluster->new('key_cmd_fails');
$bad->init;
$bad->append_conf('postgresql.conf', qq{shared_preload_libraries = 'frt_governance'
frt.audit_key_command = 'echo $key; exit 3'
});
gov_keys($bad);
ok(!$bad->start(fail_ok => 1), 'a failing key command stops the server start');
my $badlog = slurp_file($bad->logfile);
like($badlog, qr/frt.audit_key_command failed/, 'the failure is logged');
unlike($badlog, qr/$key/, 'but not what the command printed');

my $primary = PostgreSQL::Test::Cluster->new('key_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{shared_preload_libraries = 'frt_governance'
frt.audit_key_command = 'cat $kfile'
frt.audit_anchor_interval = '1s'
frt.audit_worker_idle_exit = '10min'
});
gov_keys($primary);
$primary->start;
sub q1 { return $primary->safe_psql('postgres', $_[0]); }
q1('CREATE EXTENSION frt_governance CASCADE');
is(q1('SELECT keyed, keys FROM frt.audit_protection()'), 't|1', 'the key came from the command');
my $key_id = q1('SELECT key_id FROM frt.audit_protection()');
q1("SELECT frt.audit_event('verify', 'match', 'door', 'subj-' || g, 'cam', 0.9) FROM generate_series(1, 3) g");
is(q1('SELECT count(*) FROM frt.audit WHERE length(mac) = 32'), '3', 'records are signed with it');
is(q1('SELECT ok, warning IS NULL FROM frt.verify_audit_chain()'), 't|t', 'and verify');

# Wait until the log (from offset) matches re; true if it did.
sub wait_log
{
	my ($node, $offset, $re, $secs) = @_;
	for (1 .. ($secs // 30) * 10)
	{
		return 1 if substr(slurp_file($node->logfile), $offset) =~ $re;
		sleep 0.1;
	}
	return 0;
}
sub set_conf
{
	my ($setting, $value) = @_;
	q1("ALTER SYSTEM SET $setting = '$value'");
	q1('SELECT pg_reload_conf()');
	sleep 0.5;
}
sub record { return q1("SELECT frt.audit_event('verify', 'match', 'door', 'anchor-test', 'cam', 0.9)"); }

# 2. An anchor command that fails: a WARNING; the anchor is still in the log.
set_conf('frt.audit_anchor_command', 'echo %s >/dev/null; exit 7');
my $off = -s $primary->logfile;
my $seq = record();
ok(wait_log($primary, $off, qr/frt audit anchor: db=postgres seq=$seq /), 'the anchor is in the log');
record();	# a later anchor reaps the failed command
ok(wait_log($primary, $off, qr/WARNING:  frt.audit_anchor_command failed: child process exited with exit code 7/),
	'a failing anchor command is a WARNING');

# 3. A slow anchor command: the writer goes on; an anchor arriving while it
# runs is skipped with a WARNING, and the next one reaches the notary.
set_conf('frt.audit_anchor_command', "sleep 4; echo %s >>$notary");
$off = -s $primary->logfile;
my $slow_first = record();
ok(wait_log($primary, $off, qr/frt audit anchor: db=postgres seq=$slow_first /), 'an anchor went to the slow command');
my $t0 = time;
my $skipped = record();
cmp_ok(time - $t0, '<', 2, 'a record does not wait for the slow command');
ok(wait_log($primary, $off, qr/frt audit anchor: db=postgres seq=$skipped /), 'the next anchor is in the log');
ok(wait_log($primary, $off, qr/WARNING:  frt.audit_anchor_command is still running: this anchor was not handed to it/),
	'and skipped for the command with a WARNING');
my $done = 0;
for (1 .. 300) { last if ($done = -e $notary && slurp_file($notary) =~ /^$slow_first$/m); sleep 0.1; }
ok($done, 'the slow command finished with its anchor');
sleep 1.2;
my $covering = record();
my $covered = 0;
for (1 .. 150) { last if ($covered = slurp_file($notary) =~ /^$covering$/m); sleep 0.1; }
ok($covered, 'the next anchor reaches the command');
unlike(slurp_file($notary), qr/^$skipped$/m, 'the skipped anchor never did ...');
cmp_ok($covering, '>', $skipped, '... and the one that did covers it');
like(q1("SELECT ok FROM frt.verify_audit_chain($covering, (SELECT encode(hash, 'hex') FROM frt.audit WHERE seq = $covering))"),
	qr/^t$/, 'the covering anchor verifies the chain through the skipped head');
set_conf('frt.audit_anchor_command', '');

# 4. CREATE FUNCTION in the frt schema, DROP OWNED by the extension's owner:
# recorded as audit_ddl before they run; other schemas and roles are not.
sub ddl_count { return q1("SELECT count(*) FROM frt.audit WHERE event = 'audit_ddl' AND outcome = '$_[0]'"); }
q1('CREATE FUNCTION public.harmless() RETURNS int LANGUAGE sql AS $$SELECT 1$$');
is(ddl_count('CREATE FUNCTION'), '0', 'a function outside the frt schema is not recorded');
q1('CREATE FUNCTION frt.audit_event_shadow() RETURNS int LANGUAGE sql AS $$SELECT 1$$');
is(ddl_count('CREATE FUNCTION'), '1', 'CREATE FUNCTION in the frt schema is recorded');
like(q1("SELECT detail->>'statement' FROM frt.audit WHERE event = 'audit_ddl' AND outcome = 'CREATE FUNCTION'"),
	qr/CREATE FUNCTION frt.audit_event_shadow/, 'with its statement');
q1('CREATE OR REPLACE FUNCTION frt.audit_event_shadow() RETURNS int LANGUAGE sql AS $$SELECT 2$$');
is(ddl_count('CREATE FUNCTION'), '2', 'and CREATE OR REPLACE of one');
q1('CREATE ROLE bystander; DROP OWNED BY bystander');
is(ddl_count('DROP OWNED'), '0', 'DROP OWNED of another role is not recorded');
# the extension owned by a role of its own, then everything it owns dropped
q1('CREATE ROLE ext_owner SUPERUSER LOGIN; CREATE DATABASE owned OWNER ext_owner');
$primary->safe_psql('owned', 'CREATE EXTENSION frt_governance CASCADE', extra_params => [ '-U', 'ext_owner' ]);
$primary->safe_psql('owned', "SELECT frt.audit_event('verify', 'match', 'door', 's', 'cam', 0.5)");
$off = -s $primary->logfile;
$primary->safe_psql('owned', 'DROP OWNED BY ext_owner');
is($primary->safe_psql('owned', q{SELECT count(*) FROM pg_extension WHERE extname = 'frt_governance'}), '0',
	'DROP OWNED by the owner dropped the trail');
ok(wait_log($primary, $off, qr/frt audit anchor: db=owned seq=2 .*\(after audit_ddl: DROP OWNED by \w+\)/),
	'but its record and anchor reached the log first');
is(q1('SELECT ok FROM frt.verify_audit_chain()'), 't', 'the chain verifies with the DDL records');

# 5. Streaming standbys: one with the same key (the setting comes with the
# backup), one without.
my $fixture = slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/4/g;
q1($fixture);
q1(q{CREATE ROLE relay LOGIN IN ROLE frt_audit_relay;
	SELECT frt.register_subject('s1', '1990-01-01');
	SELECT frt.give_consent('s1', 'door', 'self', 'written');
	SELECT frt.enroll('s1', 'door', '[0.6,0.8,0.0,0.0]', 'd1');});
$primary->backup('b1');
my $relay = 'host=' . $primary->host . ' port=' . $primary->port . ' user=relay';
my $keyed = PostgreSQL::Test::Cluster->new('key_standby');
$keyed->init_from_backup($primary, 'b1', has_streaming => 1);
$keyed->append_conf('postgresql.conf', "frt.audit_primary_conninfo = '$relay'\n");
$keyed->start;
my $unkeyed = PostgreSQL::Test::Cluster->new('nokey_standby');
$unkeyed->init_from_backup($primary, 'b1', has_streaming => 1);
$unkeyed->append_conf('postgresql.conf',
	"frt.audit_key_command = ''\nfrt.audit_primary_conninfo = '$relay'\n");
$unkeyed->start;
is($keyed->safe_psql('postgres', 'SELECT keyed, key_id FROM frt.audit_protection()'), "t|$key_id",
	'the keyed standby holds the same key (same key id)');
is($unkeyed->safe_psql('postgres', 'SELECT keyed FROM frt.audit_protection()'), 'f', 'the other holds none');
my $rseq = $keyed->safe_psql('postgres', q{SELECT matched FROM frt.verify('s1', 'door', '[0.6,0.8,0.0,0.0]', 'd1')});
is($rseq, 't', 'a match on the keyed standby');
$primary->wait_for_catchup($keyed);
$primary->wait_for_catchup($unkeyed);
is(q1(q{SELECT count(*) FROM frt.audit WHERE detail->'origin'->>'standby' = 'key_standby' AND length(mac) = 32}),
	'1', 'its relayed record is signed on the primary');
like(q1(q{SELECT detail->'origin'->>'mac' FROM frt.audit WHERE detail->'origin'->>'standby' = 'key_standby'}),
	qr/^[0-9a-f]{64}$/, 'and carries the MAC of its claim, made by the standby with the shared key');

# A stolen relay password on a keyed primary: no MAC, a made-up one, or a
# genuine one over other content are refused (MF143, and on record).
my $sysid = q1('SELECT system_identifier FROM pg_control_system()');
sub as_relay
{
	my ($origin, $subject) = @_;
	my ($rc, $o, $e) = $primary->psql('postgres',
		"SELECT frt.audit_event('match', 'match', 'door', '$subject', 'd1', 0.99, NULL, '{\"origin\": $origin}')",
		extra_params => [ '-U', 'relay' ]);
	return $e;
}
like(as_relay(qq({"system_identifier": "$sysid", "role": "postgres"}), 's1'),
	qr/relayed audit record refused: this primary has the audit key and the record carries no MAC/,
	'a relayed record without a MAC is refused on the keyed primary');
like(as_relay(qq({"system_identifier": "$sysid", "role": "postgres", "mac": ") . ('ab' x 32) . '"}', 's1'),
	qr/relayed audit record refused: the MAC of the claim does not verify/, 'one with a made-up MAC too');
my $genuine = q1(q{SELECT detail->'origin' FROM frt.audit WHERE detail->'origin'->>'standby' = 'key_standby'});
like(as_relay($genuine, 's2'), qr/relayed audit record refused: the MAC of the claim does not verify/,
	'and a genuine MAC over other content');
is(q1(q{SELECT count(*) FROM frt.audit WHERE event = 'refusal' AND sqlstate = 'MF143' AND role_name = 'relay'}), '3',
	'each refusal is on record');
# the standby without the key cannot relay to the keyed primary: it fails closed
my ($nrc, $nout, $nerr) = $unkeyed->psql('postgres',
	q{SELECT matched FROM frt.verify('s1', 'door', '[0.6,0.8,0.0,0.0]', 'd1')});
like($nerr, qr/audit trail unavailable: this standby could not forward the audit record to the primary: the primary refused the record/,
	'a standby without the key cannot record on the keyed primary (fails closed)');
like($nerr, qr/carries no MAC/, 'and says why');
$primary->wait_for_catchup($keyed);
$primary->wait_for_catchup($unkeyed);
is($keyed->safe_psql('postgres', 'SELECT ok, warning IS NULL FROM frt.verify_audit_chain()'), 't|t',
	'the relayed and replayed records verify on the keyed standby, MACs included');
like($unkeyed->safe_psql('postgres', 'SELECT ok, warning FROM frt.verify_audit_chain()'),
	qr/^t\|chain unkeyed on this server: no audit key is configured, so the MACs of \d+ records were not checked/,
	'the standby without the key reports the chain as unkeyed');
is($unkeyed->safe_psql('postgres', q{SELECT status FROM frt.compliance_report() WHERE check_name = 'audit_keyed'}),
	'warning', 'and its compliance report warns');
# a forged MAC replayed to the keyed standby is caught there
sub untriggered
{
	my ($sql) = @_;
	q1("BEGIN; UPDATE pg_trigger SET tgenabled = 'D' WHERE tgname = 'audit_append_only';
		UPDATE pg_class SET relhastriggers = true WHERE oid = 'frt.audit'::regclass; $sql;
		UPDATE pg_trigger SET tgenabled = 'A' WHERE tgname = 'audit_append_only';
		UPDATE pg_class SET relhastriggers = true WHERE oid = 'frt.audit'::regclass; COMMIT");
}
q1('CREATE TABLE saved_mac AS SELECT seq, mac FROM frt.audit WHERE seq = 2');
untriggered(q{UPDATE frt.audit SET mac = sha256('forged') WHERE seq = 2});
$primary->wait_for_catchup($keyed);
like($keyed->safe_psql('postgres', 'SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
	qr/^f\|2\|MAC does not verify with the audit key/, 'a replayed record with a wrong MAC fails on the standby');
untriggered('UPDATE frt.audit a SET mac = s.mac FROM saved_mac s WHERE a.seq = s.seq');
$primary->wait_for_catchup($keyed);
is($keyed->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'), 't', 'and verifies once put back');
$keyed->stop;
$unkeyed->stop;

# 6. restore_finish() with another key: the MACs do not verify, and that is
# recorded; with the same key (a database of the same server) they do.
my $tmp = PostgreSQL::Test::Utils::tempdir;
$primary->safe_psql('postgres', 'CREATE DATABASE src');
$primary->safe_psql('src', 'CREATE EXTENSION frt_governance CASCADE');
$primary->safe_psql('src', "SELECT frt.audit_event('verify', 'match', 'door', 's' || g, 'cam', 0.5) FROM generate_series(1, 4) g");
$primary->command_ok([ 'pg_dump', '-Fc', '-f', "$tmp/src.dump", '-d', $primary->connstr('src') ], 'pg_dump of a keyed trail');

my $other = PostgreSQL::Test::Cluster->new('other_key');
$other->init;
$other->append_conf('postgresql.conf', qq{shared_preload_libraries = 'frt_governance'
frt.audit_key_file = '$other_kfile'
});
gov_keys($other);
$other->start;
$other->safe_psql('postgres', 'CREATE EXTENSION frt_governance CASCADE');
isnt($other->safe_psql('postgres', 'SELECT key_id FROM frt.audit_protection()'), $key_id, 'another key');
sub restore_into
{
	my ($node, $db) = @_;
	local $ENV{PGOPTIONS} = '-c frt.restore=on';
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr($db), "$tmp/src.dump" ],
		"pg_restore into $db");
}
restore_into($other, 'r_other');
my ($ret, $out, $err) = $other->psql('r_other', 'SELECT chain_ok, audit_records, reason FROM frt.restore_finish()');
like($out, qr/^f\|\d+\|MAC does not verify with the audit key/, 'restore_finish with another key: the MACs do not verify');
like($err, qr/WARNING:  frt: the restored audit trail does not verify/, 'with a WARNING');
is($other->safe_psql('r_other', q{SELECT outcome || '|' || (detail->>'reason' LIKE 'MAC does not verify%')
	FROM frt.audit WHERE event = 'restore'}), 'chain broken|true', 'and recorded as a broken chain');

restore_into($primary, 'r_same');
is($primary->safe_psql('r_same', 'SELECT chain_ok, reason FROM frt.restore_finish()'),
	't|chain intact: 4 records, seq 1 to 4', 'restore_finish with the same key verifies the MACs');
is($primary->safe_psql('r_same', q{SELECT outcome FROM frt.audit WHERE event = 'restore'}), 'chain verified',
	'and records it');
is($primary->safe_psql('r_same', 'SELECT ok, warning IS NULL FROM frt.verify_audit_chain()'), 't|t',
	'the restored trail and the restore record verify, all signed');

# the old key kept on a line of the file (rotation) verifies the restored MACs
$other->stop;
my $rotated = key_file('rotated.key', $other_key, $key);
$other->append_conf('postgresql.conf', "frt.audit_key_file = '$rotated'\n");
$other->start;
like($other->safe_psql('r_other', 'SELECT ok, seq FROM frt.verify_audit_chain()'), qr/^t\|$/,
	'with the source\'s key on a second line the restored trail verifies');
$other->stop;

$primary->stop;
unlike(slurp_file($primary->logfile), qr/$key/, 'the key is not in the server log');
done_testing();
