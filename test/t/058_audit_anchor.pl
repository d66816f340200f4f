# The trail against its own superuser: an audit key outside the data
# directory signs every record (HMAC), and the audit writer sends the chain's
# head out (server log, anchor file).  A deleted tail, a record forged with
# the documented hash formula and a whole trail replaced are each reported
# by verify_audit_chain() given an anchor; the key appears in no log, no
# setting a non-superuser can read and no file of the data directory;
# DROP EXTENSION and TRUNCATE reach the log and the anchor file before they
# run; a superuser's reads of embeddings -- direct, by COPY, through a view
# or a function of its own -- are on record, the governance API's are not.
use strict;
use warnings;
use File::Find;
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

my $node = PostgreSQL::Test::Cluster->new('audit_anchor');
$node->init;
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'frt_governance'
frt.audit_key_file = '$outside/audit.key'
frt.audit_anchor_file = '$anchors'
frt.audit_anchor_interval = '1s'
frt.audit_worker_idle_exit = '10min'
});
gov_keys($node);
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }

q1('CREATE EXTENSION frt_governance CASCADE');
is(q1('SELECT keyed, keys, anchor_interval_s, anchor_file FROM frt.audit_protection()'), 't|1|1|t',
	'the trail is keyed and anchored');

# The anchor file cannot be put where SQL could rewrite it.
my $datadir = $node->data_dir;
my ($ret, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET frt.audit_anchor_file = '$datadir/anchors'");
like($err, qr/outside the data directory/, 'an anchor file inside the data directory is refused');
($ret, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET frt.audit_anchor_file = 'anchors'");
like($err, qr/outside the data directory/, 'a relative anchor file is refused');

# Records are signed; the anchor of the head reaches the file and the log.
q1("SELECT frt.audit_event('verify', 'match', 'door', 'subj-' || g, 'cam', 0.9) FROM generate_series(1, 5) g");
is(q1('SELECT count(*) FROM frt.audit WHERE length(mac) = 32'), '5', 'every record carries a MAC');
is(q1('SELECT ok, checked, warning IS NULL FROM frt.verify_audit_chain()'), 't|5|t', 'keyed chain intact');

# Wait for an anchor holding seq N; returns (seq, hash, mac).
sub anchor_of
{
	my ($seq) = @_;
	for (1 .. 300)
	{
		my $text = -e $anchors ? slurp_file($anchors) : '';
		return ($1, $2, $3) if $text =~ /frt audit anchor: db=postgres seq=($seq) hash=([0-9a-f]{64}) mac=([0-9a-f]{64})/;
		sleep 0.1;
	}
	return ();
}
my ($aseq, $ahash, $amac) = anchor_of(5);
is($aseq, '5', 'the head reached the anchor file');
is($ahash, q1('SELECT encode(hash, \'hex\') FROM frt.audit WHERE seq = 5'), 'with the head\'s hash');
is($amac, q1('SELECT encode(mac, \'hex\') FROM frt.audit WHERE seq = 5'), 'and its MAC');
like(slurp_file($node->logfile), qr/LOG:  frt audit anchor: db=postgres seq=5 hash=$ahash mac=$amac/,
	'and the server log');
my $anchor_args = "5, '$ahash', '$amac'";
like(q1("SELECT ok, reason FROM frt.verify_audit_chain($anchor_args)"),
	qr/^t\|chain intact: 5 records, seq 1 to 5; it holds the anchor of seq 5$/, 'the trail holds its anchor');
like(q1("SELECT ok, seq, reason FROM frt.verify_audit_chain(5, '$ahash', '" . ('0' x 64) . "')"),
	qr/^f\|5\|.*not authentic/, 'an anchor with a wrong MAC is not authentic');

# The superuser's tools: triggers switched off in the catalog (no DDL on
# record), and the documented hash formula.
sub untriggered
{
	my ($sql) = @_;
	my $rels = "('frt.audit'::regclass, 'frt.audit_mark'::regclass)";
	my $guards = "tgrelid IN $rels AND tgname IN ('audit_append_only', 'audit_mark_guard')";
	my $inval = "UPDATE pg_class SET relhastriggers = true WHERE oid IN $rels";
	q1("BEGIN; UPDATE pg_trigger SET tgenabled = 'D' WHERE $guards; $inval; $sql;
		UPDATE pg_trigger SET tgenabled = 'A' WHERE $guards; $inval; COMMIT;");
}
q1(q{CREATE FUNCTION rehash(a frt.audit) RETURNS bytea LANGUAGE sql AS $$
SELECT sha256(convert_to('frt-audit-v1', 'UTF8') || int8send(a.seq) || timestamptz_send(a.at)
	|| int4send(a.backend_pid)
	|| CASE WHEN a.similarity IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || float8send(a.similarity) END
	|| (SELECT string_agg(CASE WHEN f IS NULL THEN '\x00'::bytea
			ELSE '\x01'::bytea || int4send(octet_length(convert_to(f, getdatabaseencoding())))
				|| convert_to(f, getdatabaseencoding()) END, ''::bytea ORDER BY i)
		FROM unnest(ARRAY[a.event, a.outcome, a.sqlstate, a.role_name, a.effective_role, a.application,
			host(a.client_addr), a.purpose, a.subject, a.device, a.detail::text]) WITH ORDINALITY AS u(f, i))
	|| a.prev_hash) $$});
# Append a forged record after the current last one, chained and hashed
# with the documented formula; mac as given.
sub forge
{
	my ($mac) = @_;
	return "INSERT INTO frt.audit (seq, at, event, outcome, role_name, effective_role, backend_pid, prev_hash, hash, mac)
		SELECT seq + 1, now(), 'verify', 'no match', 'alice', 'alice', 1, hash, '\\x00', $mac
		FROM frt.audit ORDER BY seq DESC LIMIT 1;
		UPDATE frt.audit a SET hash = rehash(a) WHERE seq = (SELECT max(seq) FROM frt.audit);
		UPDATE frt.audit_mark SET seq = a.seq, hash = a.hash FROM (SELECT seq, hash FROM frt.audit ORDER BY seq DESC LIMIT 1) a";
}
q1('CREATE TABLE saved AS SELECT * FROM frt.audit; CREATE TABLE saved_mark AS SELECT * FROM frt.audit_mark');
my $put_back = 'DELETE FROM frt.audit; INSERT INTO frt.audit SELECT * FROM saved;
	DELETE FROM frt.audit_mark; INSERT INTO frt.audit_mark SELECT * FROM saved_mark';

# 1. The newest records deleted, and the head mark moved back with them.
untriggered('DELETE FROM frt.audit WHERE seq >= 4;
	UPDATE frt.audit_mark SET seq = 3, hash = (SELECT hash FROM frt.audit WHERE seq = 3)');
is(q1('SELECT ok FROM frt.verify_audit_chain()'), 't', 'without the anchor the cut is invisible');
like(q1("SELECT ok, seq, reason FROM frt.verify_audit_chain($anchor_args)"),
	qr/^f\|4\|records missing at the end: the anchor holds seq 5 but the trail ends at seq 3/,
	'with the anchor the deleted tail is reported');
untriggered($put_back);

# 2. A record forged with the documented formula, with no MAC or a made-up one.
untriggered(forge('NULL'));
like(q1("SELECT ok, seq, reason FROM frt.verify_audit_chain($anchor_args)"),
	qr/^f\|6\|record has no MAC although earlier records are signed/, 'a forged record without a MAC is reported');
untriggered($put_back);
untriggered(forge("sha256('guess')"));
like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
	qr/^f\|6\|MAC does not verify with the audit key/, 'a forged record with a made-up MAC is reported');
untriggered($put_back);

# 3. The whole trail replaced by a consistent forged chain (and mark).
untriggered(q{DELETE FROM frt.audit; UPDATE frt.audit_mark SET seq = 0;
	INSERT INTO frt.audit (seq, at, event, outcome, role_name, effective_role, backend_pid, prev_hash, hash)
	VALUES (1, now(), 'verify', 'no match', 'alice', 'alice', 1, decode(repeat('00', 32), 'hex'), '\x00');
	UPDATE frt.audit a SET hash = rehash(a) WHERE seq = 1;}
	. join('', map { forge('NULL') . ';' } 1 .. 5));
is(q1('SELECT count(*) FROM frt.audit'), '6', 'six forged records');
like(q1('SELECT ok, warning FROM frt.verify_audit_chain()'),
	qr/^t\|6 records up to seq 6 carry no MAC/, 'alone, the forged trail verifies only with a warning');
like(q1("SELECT ok, seq, reason FROM frt.verify_audit_chain($anchor_args)"),
	qr/^f\|5\|the record at seq 5 is not the anchored one \(the trail was replaced or rewritten\)/,
	'with the anchor the replaced trail is reported');
untriggered($put_back);
is(q1("SELECT ok FROM frt.verify_audit_chain($anchor_args)"), 't', 'the genuine trail is back');

# The anchor file as a whole, as the documented procedure reads it.
my $text = slurp_file($anchors);
my $rows = q1("SELECT line, seq, ok FROM frt.verify_audit_anchors(\$a\$$text\$a\$) ORDER BY line");
like($rows, qr/^0\|\|t$/m, 'the anchor file: the chain with the newest anchor verifies');
unlike($rows, qr/\|f$/m, 'and every anchor in it matches the trail');

# Reads of embeddings outside the API are on record, whoever and however.
my $fixture = slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/4/g;
q1($fixture);
q1(q{SELECT frt.register_subject('s1', '1990-01-01'); SELECT frt.give_consent('s1', 'gate', 'self', 'written');
	SELECT frt.enroll('s1', 'gate', '[0.6,0.8,0.0,0.0]', 'cam')});
sub reads { return q1("SELECT count(*) FROM frt.audit WHERE event = 'embedding_read'"); }
is(reads(), '0', 'enrolment did not count as a direct read');
q1(q{SELECT * FROM frt.identify('gate', '[0.6,0.8,0.0,0.0]', 'cam', 1)});
is(reads(), '0', 'nor does an identification through the API');
q1('SELECT count(*) FROM frt.face');
is(reads(), '0', 'a read without the embedding column is not one');
q1('SELECT embedding FROM frt.face');
is(reads(), '1', 'a superuser SELECT of embeddings is recorded');
q1('COPY frt.face TO stdout');
is(reads(), '2', 'and a COPY');
q1('CREATE VIEW public.faces AS SELECT subject, embedding FROM frt.face; SELECT * FROM public.faces');
is(reads(), '3', 'and a read through a view of its own')
	or diag q1("SELECT seq, detail FROM frt.audit WHERE event = 'embedding_read'");
q1(q{CREATE FUNCTION public.take() RETURNS SETOF text LANGUAGE sql AS 'SELECT embedding::text FROM frt.face';
	SELECT public.take()});
is(reads(), '4', 'and through a function of its own');
like(q1("SELECT role_name, detail->>'superuser', detail->>'statement' FROM frt.audit
	WHERE event = 'embedding_read' ORDER BY seq DESC LIMIT 1"), qr/^\w+\|true\|/, 'who read is on record');

# Statements on the audit objects reach the log and the anchor channel first.
($ret, $out, $err) = $node->psql('postgres', 'TRUNCATE frt.audit');
like($err, qr/TRUNCATE on frt.audit refused/, 'TRUNCATE is refused');
q1('DROP EXTENSION frt_governance CASCADE');
my $log = slurp_file($node->logfile);
like($log, qr/frt audit anchor: db=postgres seq=\d+ .*\(after audit_ddl: TRUNCATE TABLE by \w+\)/,
	'the TRUNCATE attempt is in the log with its anchor');
like($log, qr/frt audit anchor: db=postgres seq=\d+ .*\(after audit_ddl: DROP EXTENSION by \w+\)/,
	'the DROP EXTENSION is in the log with its anchor');
like(slurp_file($anchors), qr/\(after audit_ddl: DROP EXTENSION by \w+\)/, 'and in the anchor file');

# The key is nowhere SQL or the log could show it.
$node->safe_psql('postgres', 'CREATE ROLE nosuper LOGIN');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_settings WHERE name LIKE 'frt.audit_key%'",
	extra_params => [ '-U', 'nosuper' ]), '0', 'the key settings are hidden from non-superusers');
($ret, $out, $err) = $node->psql('postgres', 'SHOW frt.audit_key_file', extra_params => [ '-U', 'nosuper' ]);
isnt($ret, 0, 'SHOW of the key file is refused to non-superusers');
unlike(q1("SELECT string_agg(coalesce(setting, ''), ' ') FROM pg_settings"), qr/$key/,
	'no setting holds the key');
q1('CHECKPOINT');
$node->stop;
unlike(slurp_file($node->logfile), qr/$key/, 'the key is not in the server log');
my $found = 0;
find(sub {
	return unless -f $_;
	open(my $fh, '<:raw', $_) or return;
	local $/;
	my $bytes = <$fh>;
	close $fh;
	$found++ if defined $bytes && index($bytes, $key) >= 0;
}, $datadir);
is($found, 0, 'no file of the data directory holds the key');

done_testing();
