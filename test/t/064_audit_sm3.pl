# The audit chain under SM3 (frt.audit_hash = sm3, China's commercial
# cryptography): records name their hash function (hash_alg) and verify; a
# trail written under sha256, then sm3, then sha256 again across restarts
# verifies as one chain, and an edit, a downgraded hash_alg or a record
# forged with the documented formula is found in each part; keyed records
# carry HMAC-SM3; anchor lines name the function and verify; one SM3 record
# is recomputed from Perl with `openssl dgst -sm3` and its MAC with
# `openssl mac -digest SM3`; a standby with the same key relays its match
# with an HMAC-SM3 claim; a dump of the mixed trail restores and verifies;
# the compliance report names the function.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use IPC::Run;
use JSON::PP;
use Time::HiRes qw(sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $outside = PostgreSQL::Test::Utils::tempdir;
my $key = join('', map { sprintf('%02x', int(rand(256))) } 1 .. 32);
open(my $kf, '>', "$outside/audit.key") or die;
print $kf "$key\n";
close $kf;
chmod 0600, "$outside/audit.key";
my $anchors = "$outside/anchors";

my $node = PostgreSQL::Test::Cluster->new('audit_sm3');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'frt_governance'
frt.audit_key_file = '$outside/audit.key'
frt.audit_anchor_file = '$anchors'
frt.audit_anchor_interval = '1s'
});
gov_keys($node, suite => 'sm4-sm3');
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }

# Restart the server with frt.audit_hash set to alg.
sub restart_with
{
	my ($alg) = @_;
	$node->append_conf('postgresql.conf', "frt.audit_hash = '$alg'\n");
	$node->restart;
	is(q1('SHOW frt.audit_hash'), $alg, "restarted with frt.audit_hash = $alg");
}

# Records of one part of the trail; returns the seqs written.
sub write_part
{
	my ($tag, $n) = @_;
	return split /\n/, q1("SELECT frt.audit_event('verify', 'match', 'door', '$tag-' || g, 'cam', 0.5 + g / 100.0,
		NULL, jsonb_build_object('n', g)) FROM generate_series(1, $n) g");
}

# What a superuser can do behind the triggers' back (no DDL, nothing on record).
sub untriggered
{
	my ($sql) = @_;
	my $guards = "tgrelid = 'frt.audit'::regclass AND tgname IN ('audit_append_only', 'audit_no_truncate')";
	my $inval = "UPDATE pg_class SET relhastriggers = true WHERE oid = 'frt.audit'::regclass";
	q1("BEGIN; UPDATE pg_trigger SET tgenabled = 'D' WHERE $guards; $inval; $sql;
		UPDATE pg_trigger SET tgenabled = 'A' WHERE $guards; $inval; COMMIT;");
}

q1('CREATE EXTENSION frt_governance CASCADE');
is(q1('SHOW frt.audit_hash'), 'sha256', 'the default is sha256');
like(q1(q{SELECT detail FROM frt.compliance_report() WHERE check_name = 'audit_keyed'}),
	qr/hashed with SHA-256 and signed \(HMAC-SHA-256\).*faces are sealed with sm4-sm3 but new audit records are hashed with SHA-256/,
	'the report names SHA-256 and notes the sm4-sm3 faces beside it');

# 1. sha256, then sm3, then sha256 again: one chain.
my @p1 = write_part('a', 4);
restart_with('sm3');
my @p2 = write_part('b', 5);
is(q1(qq{SELECT string_agg(DISTINCT hash_alg, ',') FROM frt.audit WHERE seq BETWEEN $p2[0] AND $p2[-1]}), 'sm3',
	'records written under sm3 name sm3');
is(q1(qq{SELECT count(*) FROM frt.audit WHERE seq BETWEEN $p2[0] AND $p2[-1] AND length(hash) = 32 AND length(mac) = 32}),
	'5', 'and carry a 32-byte hash and MAC');
is(q1(qq{SELECT count(*) FROM frt.audit WHERE seq < $p2[0] AND hash_alg <> 'sha256'}), '0',
	'the records before keep sha256');
like(q1('SELECT ok, warning IS NULL, reason FROM frt.verify_audit_chain()'),
	qr/^t\|t\|chain intact: \d+ records, seq 1 to \d+ \(\d+ hashed with sha256, \d+ with sm3\)$/,
	'the chain verifies across the switch to sm3');
like(q1(q{SELECT detail FROM frt.compliance_report() WHERE check_name = 'audit_keyed'}),
	qr/^audit records are hashed with SM3 and signed \(HMAC-SM3\) with a key loaded at server start \(key id [0-9a-f]{16}\)$/,
	'the report names SM3');

# 2. One SM3 record recomputed outside the database: the documented
# serialization in Perl, hashed by `openssl dgst -sm3`, its MAC by
# `openssl mac -digest SM3`.
my $seq = $p2[1];
my $row = decode_json(q1(qq{SELECT json_build_object('seq', seq,
	'at_us', (extract(epoch FROM at) * 1000000)::int8 - 946684800000000,
	'pid', backend_pid, 'sim', similarity::text,
	'fields', json_build_array(event, outcome, sqlstate, role_name, effective_role, application,
		client_addr::text, purpose, subject, device, detail::text),
	'prev', encode(prev_hash, 'hex'), 'hash', encode(hash, 'hex'), 'mac', encode(mac, 'hex'), 'alg', hash_alg)
	FROM frt.audit WHERE seq = $seq}));
is($row->{alg}, 'sm3', "record $seq is an SM3 record");
my $msg = 'frt-audit-v1' . pack('q>', $row->{seq}) . pack('q>', $row->{at_us}) . pack('l>', $row->{pid});
$msg .= defined $row->{sim} ? "\x01" . pack('d>', $row->{sim}) : "\x00";
for my $f (@{ $row->{fields} })
{
	if (!defined $f) { $msg .= "\x00"; next; }
	utf8::encode($f);
	$msg .= "\x01" . pack('N', length($f)) . $f;
}
$msg .= pack('H*', $row->{prev});
open(my $mf, '>:raw', "$outside/record.bin") or die;
print $mf $msg;
close $mf;
my ($out, $err) = ('', '');
IPC::Run::run([ 'openssl', 'dgst', '-sm3', '-r', "$outside/record.bin" ], '>', \$out, '2>', \$err)
  or die "openssl dgst -sm3: $err";
is((split / /, $out)[0], $row->{hash}, "openssl dgst -sm3 of the serialized record $seq gives its hash");
isnt(sha256_hex($msg), $row->{hash}, 'which is not its SHA-256');
open($mf, '>:raw', "$outside/mac.bin") or die;
print $mf 'frt-audit-mac-v1' . pack('H*', $row->{hash});
close $mf;
($out, $err) = ('', '');
IPC::Run::run([ 'openssl', 'mac', '-digest', 'SM3', '-macopt', "key:$key", '-in', "$outside/mac.bin", 'HMAC' ],
	'>', \$out, '2>', \$err) or die "openssl mac: $err";
chomp $out;
is(lc $out, $row->{mac}, "openssl's HMAC-SM3 of its hash with the audit key gives its MAC");

# 3. Anchors under sm3 name the function and verify.
my $last = $p2[-1];
my $line;
for (1 .. 300)
{
	($line) = grep { /seq=$last hash=/ } split /\n/, (-e $anchors ? slurp_file($anchors) : '');
	last if $line;
	sleep 0.1;
}
like($line // '', qr/^frt audit anchor: db=postgres seq=$last hash=[0-9a-f]{64} mac=[0-9a-f]{64} alg=sm3 at=/,
	'the anchor of the sm3 head names sm3');
my ($ahash, $amac) = $line =~ /hash=([0-9a-f]{64}) mac=([0-9a-f]{64})/;
is(q1(qq{SELECT ok FROM frt.verify_audit_chain($last, '$ahash', '$amac', 'sm3')}), 't',
	'verify_audit_chain with the sm3 anchor');
is(q1(qq{SELECT ok FROM frt.verify_audit_chain($last, '$ahash', '$amac')}), 't',
	'and without naming the function (the record\'s is taken)');
like(q1(qq{SELECT ok, seq, reason FROM frt.verify_audit_chain($last, '$ahash', '$amac', 'sha256')}),
	qr/^f\|$last\|the anchor of seq $last does not verify with the audit key/,
	'an anchor claiming sha256 for the sm3 record does not verify');
my $forged_mac = ($amac =~ /^0/ ? '1' : '0') . substr($amac, 1);
like(q1(qq{SELECT ok, reason FROM frt.verify_audit_chain($last, '$ahash', '$forged_mac', 'sm3')}),
	qr/^f\|the anchor of seq $last does not verify/, 'a forged anchor MAC is found');
is(q1(qq{SELECT count(*) FROM frt.verify_audit_anchors(\$a\$$line\$a\$) WHERE NOT ok}), '0',
	'verify_audit_anchors takes the sm3 line');

# 4. Back to sha256: the three parts verify as one chain.
restart_with('sha256');
my @p3 = write_part('c', 4);
is(q1(qq{SELECT string_agg(DISTINCT hash_alg, ',') FROM frt.audit WHERE seq >= $p3[0]}), 'sha256',
	'records after the switch back name sha256');
like(q1('SELECT ok, warning IS NULL, reason FROM frt.verify_audit_chain()'),
	qr/^t\|t\|chain intact: \d+ records, seq 1 to \d+ \(\d+ hashed with sha256, \d+ with sm3\)$/,
	'sha256 -> sm3 -> sha256: the chain verifies');
is(q1(q{SELECT count(*) FROM frt.audit WHERE length(mac) <> 32 OR mac IS NULL}), '0', 'every record is signed');

# 5. Tampering is found in each part, at the right record.
for my $case ([ 'sm3', $p2[2] ], [ 'sha256 (before)', $p1[2] ], [ 'sha256 (after)', $p3[1] ])
{
	my ($part, $s) = @$case;
	q1("CREATE TABLE saved AS SELECT * FROM frt.audit WHERE seq = $s");
	untriggered("UPDATE frt.audit SET outcome = 'no match' WHERE seq = $s");
	like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
		qr/^f\|$s\|content does not match its hash/, "$part part: an edited record is found at seq $s");
	my $other = q1("SELECT CASE hash_alg WHEN 'sm3' THEN 'sha256' ELSE 'sm3' END FROM saved");
	untriggered("UPDATE frt.audit SET outcome = 'match', hash_alg = '$other' WHERE seq = $s");
	like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
		qr/^f\|$s\|content does not match its hash/, "$part part: a record relabelled $other is found");
	untriggered("DELETE FROM frt.audit WHERE seq = $s; INSERT INTO frt.audit SELECT * FROM saved");
	q1('DROP TABLE saved');
	is(q1('SELECT ok FROM frt.verify_audit_chain()'), 't', "$part part: put back, it verifies");
}

# A record forged with the documented formula (pgcrypto's digest computes
# SM3 in SQL): its hash matches, its MAC cannot.
SKIP:
{
	skip 'pgcrypto is not installed', 4
	  unless q1(q{SELECT count(*) FROM pg_available_extensions WHERE name = 'pgcrypto'}) eq '1';
	q1('CREATE EXTENSION pgcrypto');
	my $formula = q{SELECT CASE a.hash_alg WHEN 'sm3' THEN digest(m, 'sm3') ELSE sha256(m) END
	FROM (SELECT convert_to('frt-audit-v1', 'UTF8') || int8send(a.seq) || timestamptz_send(a.at) || int4send(a.backend_pid)
	|| CASE WHEN a.similarity IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || float8send(a.similarity) END
	|| (SELECT string_agg(CASE WHEN f IS NULL THEN '\x00'::bytea
			ELSE '\x01'::bytea || int4send(octet_length(convert_to(f, getdatabaseencoding())))
				|| convert_to(f, getdatabaseencoding()) END, ''::bytea ORDER BY i)
		FROM unnest(ARRAY[a.event, a.outcome, a.sqlstate, a.role_name, a.effective_role, a.application,
			CASE WHEN masklen(a.client_addr) = CASE family(a.client_addr) WHEN 4 THEN 32 ELSE 128 END
				THEN host(a.client_addr) ELSE a.client_addr::text END,
			a.purpose, a.subject, a.device, a.detail::text]) WITH ORDINALITY AS u(f, i))
	|| a.prev_hash AS m) x};
	is(q1("SELECT bool_and(a.hash = ($formula)) FROM frt.audit a"), 't',
		'the documented formula, with digest(m, \'sm3\'), gives every hash of the mixed trail');
	for my $case ([ 'sm3', $p2[3] ], [ 'sha256', $p3[2] ])
	{
		my ($part, $s) = @$case;
		q1("CREATE TABLE saved AS SELECT * FROM frt.audit WHERE seq = $s");
		untriggered("UPDATE frt.audit a SET outcome = 'no match' WHERE seq = $s;
			UPDATE frt.audit a SET hash = ($formula) WHERE seq = $s");
		like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
			qr/^f\|$s\|MAC does not verify with the audit key/,
			"$part part: a record forged with the formula fails its MAC at seq $s");
		untriggered("DELETE FROM frt.audit WHERE seq = $s; INSERT INTO frt.audit SELECT * FROM saved");
		q1('DROP TABLE saved');
	}
	q1('DROP EXTENSION pgcrypto');
	is(q1('SELECT ok FROM frt.verify_audit_chain()'), 't', 'put back, it verifies');
}

# 6. A dump of the mixed trail restores (each row checked with its own
# function) and verifies.
my $dump = "$outside/mixed.dump";
$node->command_ok([ 'pg_dump', '-F', 'c', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump of the mixed trail');
q1('CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c frt.restore=on';
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
		'pg_restore of the mixed trail');
}
is($node->safe_psql('restored', q{SELECT chain_ok FROM frt.restore_finish()}), 't',
	'restore_finish verifies the mixed trail with the key');
is($node->safe_psql('restored', q{SELECT count(DISTINCT hash_alg) FROM frt.audit}), '2', 'both functions restored');
my $bad = "$outside/bad.sql";
$node->command_ok([ 'pg_dump', '-f', $bad, '-d', $node->connstr('postgres') ], 'a plain dump');
my $text = slurp_file($bad);
my $edited = $text =~ s/\tsm3\n/\tsha256\n/r;
isnt($edited, $text, 'an sm3 record of the dump relabelled sha256');
open(my $bf, '>', $bad) or die;
print $bf $edited;
close $bf;
q1('CREATE DATABASE tampered');
{
	local $ENV{PGOPTIONS} = '-c frt.restore=on';
	my ($rc, $o, $e) = $node->psql('tampered', undef, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', $bad ]);
	like($e, qr/restore of frt\.audit refused at seq \d+: content does not match its hash/,
		'does not restore');
}

# 7. A standby with the same key and sm3 relays its match: the claim's MAC is
# HMAC-SM3 (origin.mac_alg), verified by the primary.
my $fixture = slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/4/g;
q1($fixture);
q1(q{CREATE ROLE relay LOGIN IN ROLE frt_audit_relay;
	SELECT frt.register_subject('s1', '1990-01-01');
	SELECT frt.give_consent('s1', 'door', 'self', 'written');
	SELECT frt.enroll('s1', 'door', '[0.6,0.8,0.0,0.0]', 'd1');});
restart_with('sm3');
$node->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('sm3_standby');
$standby->init_from_backup($node, 'b1', has_streaming => 1);
$standby->append_conf('postgresql.conf',
	'frt.audit_primary_conninfo = \'host=' . $node->host . ' port=' . $node->port . " user=relay'\n");
$standby->start;
is($standby->safe_psql('postgres', 'SHOW frt.audit_hash'), 'sm3', 'the standby runs with sm3');
is($standby->safe_psql('postgres', q{SELECT matched FROM frt.verify('s1', 'door', '[0.6,0.8,0.0,0.0]', 'd1')}), 't',
	'a match on the standby is recorded through the primary');
is(q1(q{SELECT hash_alg, detail->'origin'->>'mac_alg', length(decode(detail->'origin'->>'mac', 'hex'))
	FROM frt.audit WHERE detail->'origin'->>'standby' = 'sm3_standby'}), 'sm3|sm3|32',
	'its record is an sm3 record whose claim carries an HMAC-SM3');
$node->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'), 't',
	'the standby verifies the mixed trail it received');
my $sysid = q1('SELECT system_identifier FROM pg_control_system()');
my $made_up = 'ab' x 32;
my ($rc, $o, $e) = $node->psql('postgres',
	qq{SELECT frt.audit_event('match', 'match', 'door', 's1', 'd1', 0.99, NULL,
		'{"origin": {"system_identifier": "$sysid", "role": "postgres", "mac_alg": "md5", "mac": "$made_up"}}')},
	extra_params => [ '-U', 'relay' ]);
like($e, qr/relayed audit record refused: the MAC of the claim names an unknown hash function/,
	'a claim naming an unknown MAC function is refused');
$standby->stop;

done_testing();
