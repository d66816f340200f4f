# Device-to-server sync (Measures Art. 8, 14): frt.device_sync() takes a
# device's payload (frt_sync_export() of the SQLite edition) from the
# device's login.  Checked:
#  - the device's audit trail is stored as received and verifies on the
#    server with the server's own chain code; a trail made here by an
#    independent implementation of the chain (Perl) and one made by the
#    SQLite edition itself (when its library builds) both verify;
#  - only faces whose subjects gave the device a separate transfer consent
#    arrive, through frt.enroll; a face without it in the device's trail, or
#    withdrawn since, or whose consent was given again since (which clears
#    it), is refused (MF008, MF006) and audited on the server,
#    and the device's own refusal of it is in the trail the server holds;
#  - a tampered payload (an edited record, a dropped record, a record whose
#    previous hash is wrong, a replay) is refused whole (MF148), audited,
#    and nothing of it is stored;
#  - a second sync ships only new records;
#  - a login not bound to the device (or of another processor), an
#    unapproved device: refused; the received trails are append-only and
#    read per processor.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(sha256);
use JSON::PP;
use IPC::Run;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('device_sync');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'");
gov_keys($node);
$node->start;

sub q1 { return $node->safe_psql('postgres', $_[0]); }

# Run $sql as login $user; returns (SQLSTATE or 'ok', output or message).
sub as
{
	my ($user, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $user ]);
	return ('ok', $out) if $rc == 0 && $err !~ /ERROR/;
	my ($state, $msg) = $err =~ /ERROR:\s+([0-9A-Z]{5}):\s+([^\n]*)/;
	return ($state // 'unknown', $msg // $err);
}

my $json = JSON::PP->new->canonical;
# a device's payload, decoded and encoded again with its numbers exact
# (a similarity printed with 17 digits must come back with 17 digits)
my $exact = JSON::PP->new->canonical->allow_bignum;

# Send a payload (text) as $user; returns (state, ack as a hash or message).
sub sync
{
	my ($user, $payload) = @_;
	my ($state, $out) = as($user, "SELECT frt.device_sync(\$pl\$$payload\$pl\$::jsonb)");
	return ($state, $state eq 'ok' ? $json->decode($out) : $out);
}

# ---- the server: a processor, a purpose, a device, the device's login
q1(q{
CREATE EXTENSION frt_governance CASCADE;
INSERT INTO frt.processor VALUES ('Acme Ltd', 'dpo@acme.example');
INSERT INTO frt.purpose (name, kind, description, method, retention, alternative_method, dimension)
VALUES ('door', 'verification', 'office door', '1:1 at the door', '1 year', 'badge', 4);
SELECT frt.publish_notice('door', 'We compare your face.', '1:1', '1 year', 'low', 'dpo', 'read aloud');
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('door', 'dpo', 'PIA');
INSERT INTO frt.device (name, location_type) VALUES ('cam-1', 'workplace'), ('cam-2', 'workplace');
CREATE ROLE dev1 LOGIN IN ROLE frt_enroller;
CREATE ROLE dev2 LOGIN IN ROLE frt_enroller;
CREATE ROLE auditor LOGIN IN ROLE frt_auditor;
SELECT frt.grant_application('dev1', 'door', ARRAY['enrol']);
SELECT frt.grant_application('dev2', 'door', ARRAY['enrol']);
SELECT frt.bind_device('cam-1', 'dev1');
SELECT frt.bind_device('cam-2', 'dev2');
-- s3 consented here before, to export too (a consent the device's does not narrow)
SELECT frt.register_subject('s3', '1985-05-05');
SELECT frt.give_consent('s3', 'door', 'self', 'written', p_transfer_consent => true);
});

# ---- a device trail made here (the chain of frt_chain.h, in Perl)
my $zero = '00' x 32;
my %trail = (records => [], prev => $zero);

# The chain hash of a record (hex): frt_chain.h's serialization.
sub chain_hash
{
	my ($r) = @_;
	my $m = 'frt-audit-v1' . pack('Q>Q>N', $r->{seq}, $r->{at}, $r->{backend_pid});
	$m .= defined $r->{similarity} ? "\x01" . pack('d>', $r->{similarity}) : "\x00";
	for my $k (qw(event outcome sqlstate role_name effective_role application client_addr
		purpose subject device detail))
	{
		my $v = $r->{$k};
		$k eq 'detail' && defined $v and $v = $r->{detail_text};
		if (defined $v)
		{
			utf8::encode($v);
			$m .= "\x01" . pack('N', length $v) . $v;
		}
		else { $m .= "\x00"; }
	}
	$m .= pack('H*', $r->{prev_hash});
	return unpack('H*', sha256($m));
}

# Append a record to the trail; detail is its canonical (jsonb_out) text.
sub record
{
	my (%f) = @_;
	my $seq = @{ $trail{records} } + 1;
	my $r = {
		seq => $seq, at => 830000000000000 + 1000003 * $seq, backend_pid => 0,
		similarity => $f{similarity}, event => $f{event}, outcome => $f{outcome},
		sqlstate => $f{sqlstate}, role_name => undef, effective_role => undef,
		application => 'frt_sqlite', client_addr => undef, purpose => $f{purpose},
		subject => $f{subject}, device => 'cam-1', detail_text => $f{detail},
		detail => defined $f{detail} ? $json->decode($f{detail}) : undef,
		prev_hash => $trail{prev}, hash_alg => 'sha256' };
	$r->{hash} = chain_hash($r);
	$trail{prev} = $r->{hash};
	push @{ $trail{records} }, $r;
	return $seq;
}

# A payload of records $from..$to (1-based) and faces.
sub payload
{
	my ($from, $to, @faces) = @_;
	my @recs = map {
		my %c = %$_;
		delete $c{detail_text};
		\%c
	} @{ $trail{records} }[ $from - 1 .. $to - 1 ];
	return $json->encode({ format => 'frt-device-sync-v1', device => 'cam-1',
		processor => 'Acme Ltd', audit => \@recs, faces => \@faces });
}

my $c1 = record(event => 'consent', outcome => 'given', purpose => 'door', subject => 's1',
	detail => '{"given_by": "self", "birth_date": "1990-01-01", "notice_version": 1}');
my $t1 = record(event => 'consent', outcome => 'transfer_given', purpose => 'door', subject => 's1');
my $c2 = record(event => 'consent', outcome => 'given', purpose => 'door', subject => 's2',
	detail => '{"given_by": "self", "birth_date": "1991-01-01", "notice_version": 1}');
my $c3 = record(event => 'consent', outcome => 'given', purpose => 'door', subject => 's3',
	detail => '{"given_by": "self", "birth_date": "1985-05-05", "notice_version": 1}');
my $t3 = record(event => 'consent', outcome => 'transfer_given', purpose => 'door', subject => 's3');
record(event => 'match', outcome => 'matched', purpose => 'door', subject => 's1', similarity => 0.75,
	detail => '{"kind": "verification"}');
# the device refused to export s2's face (no transfer consent), before cutting the payload
my $r2 = record(event => 'export', outcome => 'refused', sqlstate => 'MF008', purpose => 'door',
	subject => 's2', detail => '{"reason": "no transfer consent"}');
record(event => 'export', outcome => 'exported', detail => '{"faces": 2, "refused": 1}');
my $n1 = scalar @{ $trail{records} };

my %face = (
	s1 => { subject => 's1', purpose => 'door', embedding => '[1,0,0,0]', consent_seq => $c1,
		transfer_seq => $t1, birth_date => '1990-01-01' },
	s3 => { subject => 's3', purpose => 'door', embedding => '[0,1,0,0]', consent_seq => $c3,
		transfer_seq => $t3, birth_date => '1985-05-05' },
	# a forged face: s2 gave no transfer consent (its consent record named as both)
	s2 => { subject => 's2', purpose => 'door', embedding => '[0,0,1,0]', consent_seq => $c2,
		transfer_seq => $c2, birth_date => '1991-01-01' });

sub counts
{
	return q1(q{SELECT (SELECT count(*) FROM frt.device_audit) || '/' || (SELECT count(*) FROM frt.face)});
}

# ---- who may send
my ($state, $ack) = sync('dev2', payload(1, $n1, @face{qw(s1 s3)}));
is($state, 'MF145', "a login bound to another device is refused (MF145)");
is(counts(), '0/0', '... nothing stored');
q1(q{UPDATE frt.device SET approved_by = NULL, approved_at = NULL WHERE name = 'cam-1'});
($state) = sync('dev1', payload(1, $n1, @face{qw(s1 s3)}));
is($state, 'MF146', 'an unapproved device is refused (MF146)');
q1(q{SELECT frt.approve_device('cam-1')});

# ---- tampered first payloads: refused whole, audited, nothing stored
{
	my $p = $json->decode(payload(1, $n1, @face{qw(s1 s3)}));
	$p->{audit}[2]{subject} = 's9';
	($state, my $msg) = sync('dev1', $json->encode($p));
	is($state, 'MF148', 'an edited record is refused (MF148)');
	like($msg, qr/audit record 3 of device 'cam-1' does not verify/, '... naming the record');
	is(counts(), '0/0', '... nothing stored');

	$p = $json->decode(payload(1, $n1, @face{qw(s1 s3)}));
	splice(@{ $p->{audit} }, 3, 1);
	($state, $msg) = sync('dev1', $json->encode($p));
	is($state, 'MF148', 'a dropped record is refused (MF148)');
	like($msg, qr/sent audit record 5, but the server holds its trail through record 3/, '... naming the gap');

	$p = $json->decode(payload(1, $n1, @face{qw(s1 s3)}));
	$p->{audit}[1]{prev_hash} = 'ab' x 32;
	($state, $msg) = sync('dev1', $json->encode($p));
	is($state, 'MF148', 'a record that does not continue the chain is refused (MF148)');
	like($msg, qr/does not continue its chain/, '... saying so');

	$p = $json->decode(payload(1, $n1, @face{qw(s1 s3)}));
	$p->{audit}[0]{seq} = 'x';
	($state) = sync('dev1', $json->encode($p));
	is($state, '22023', 'a malformed record is rejected (22023)');
	is(counts(), '0/0', '... nothing stored');
	is(q1(q{SELECT count(*) FROM frt.audit WHERE sqlstate = 'MF148' AND event = 'refusal'
			AND device = 'cam-1' AND detail->>'function' = 'device_sync'}), '3',
		'each refused payload is on record (MF148)');
}

# ---- the first sync: the trail arrives, the consented faces only
($state, $ack) = sync('dev1', payload(1, $n1, @face{qw(s1 s3 s2)}));
is($state, 'ok', 'first sync accepted') or diag($ack);
is($ack->{received_through}, $n1, "received through record $n1");
is($ack->{received_hash}, $trail{records}[-1]{hash}, '... with its hash');
is_deeply([ map { $_->{subject} } @{ $ack->{accepted} } ], [qw(s1 s3)], 's1 and s3 accepted');
is_deeply($ack->{refused}, [ { face => 2, subject => 's2', purpose => 'door', sqlstate => 'MF008' } ],
	's2 refused: no transfer consent in the trail (MF008)');
is(q1(q{SELECT string_agg(subject, ',' ORDER BY subject) FROM frt.face}), 's1,s3',
	'only transfer-consented faces are stored on the server');
is(q1(q{SELECT string_agg(subject || ':' || transfer_consent || ':' || central_storage_consent, ',' ORDER BY subject)
		FROM frt.consent}), 's1:false:true,s3:true:true',
	"server consents record the device's transfer consent as central-storage consent, not as consent to export");
is(q1(q{SELECT count(*) FROM frt.audit WHERE event = 'device_sync' AND outcome = 'face_refused'
		AND subject = 's2' AND sqlstate = 'MF008'}), '1', "the refusal of s2's face is on the server's record");
is(q1(q{SELECT count(*) FROM frt.device_audit WHERE event = 'export' AND outcome = 'refused'
		AND subject = 's2' AND sqlstate = 'MF008'}), '1', "... and the device's own refusal is in the trail received");
is(q1(q{SELECT count(*) FROM frt.audit WHERE event = 'enrol' AND device = 'cam-1'}), '2',
	'faces enrolled through frt.enroll (audited)');
is(q1(qq{SELECT count(*) FROM frt.device_audit WHERE device = 'cam-1'}), $n1, 'every record stored');
is(q1(q{SELECT bool_and(frt._device_record_hash(a) = a.hash) FROM frt.device_audit a}), 't',
	'the stored trail verifies on the server (same chain code)');
is(q1(q{SELECT count(DISTINCT receipt_seq) || ':' || bool_and(r.event = 'device_sync' AND r.outcome = 'received')
		FROM frt.device_audit a JOIN frt.audit r ON r.seq = a.receipt_seq}), '1:true',
	'each record names the receipt on the server');

# ---- the same payload again (its acknowledgement lost): answered again, nothing twice
my $first_ack = $ack;
($state, my $again) = sync('dev1', payload(1, $n1, @face{qw(s1 s3)}));
is($state, 'ok', 'the same payload sent again is answered again') or diag($again);
is($again->{received_through}, $first_ack->{received_through}, '... with the same acknowledged record');
is(join(',', map { "$_->{subject}:$_->{face_id}:" . ($_->{again} ? 'again' : 'new') } @{ $again->{accepted} }),
	join(',', map { "$_->{subject}:$_->{face_id}:again" } @{ $first_ack->{accepted} }),
	'... its faces answered with the faces enrolled the first time');
is(counts(), "$n1/2", '... nothing stored or enrolled twice');
# a record the server holds, sent again changed: refused whole
my $fork = $json->decode(payload(1, $n1, @face{qw(s1 s3)}));
$fork->{audit}[1]{outcome} = 'changed';
($state, my $msg) = sync('dev1', $json->encode($fork));
is($state, 'MF148', 'a held record sent again with other content is refused (MF148)');
like($msg, qr/sent audit record 2 again, not as the server holds it/, '... naming the record');
# held records out of order: refused whole
$fork = $json->decode(payload(1, $n1, @face{qw(s1 s3)}));
@{ $fork->{audit} }[ 0, 1 ] = @{ $fork->{audit} }[ 1, 0 ];
($state) = sync('dev1', $json->encode($fork));
is($state, 'MF148', 'held records sent again out of order are refused (MF148)');
is(counts(), "$n1/2", '... nothing stored');

# ---- the second sync: new records only; a withdrawal stops a face
my $w3 = record(event => 'consent', outcome => 'withdrawn', purpose => 'door', subject => 's3');
my $c4 = record(event => 'consent', outcome => 'given', purpose => 'door', subject => 's4',
	detail => '{"given_by": "self", "birth_date": "1970-02-02", "notice_version": 1}');
my $t4 = record(event => 'consent', outcome => 'transfer_given', purpose => 'door', subject => 's4');
my $n2 = scalar @{ $trail{records} };
my %face4 = (subject => 's4', purpose => 'door', embedding => '[0,0,0,1]', consent_seq => $c4,
	transfer_seq => $t4, birth_date => '1970-02-02');
my %face4b = (%face4, subject => 's5');
($state, $ack) = sync('dev1', payload($n1 + 1, $n2, \%face4, $face{s3}, \%face4b));
is($state, 'ok', 'second sync accepted') or diag($ack);
is($ack->{received_through}, $n2, "... through record $n2");
is_deeply([ map { $_->{subject} } @{ $ack->{accepted} } ], ['s4'], 's4 accepted');
is_deeply([ map { "$_->{subject}:$_->{sqlstate}" } @{ $ack->{refused} } ], [ 's3:MF006', 's5:MF006' ],
	'withdrawn s3 and s5 (no consent of its own in the trail) refused (MF006)');
is(q1(qq{SELECT count(*) FROM frt.device_audit}), $n2, 'only the new records were added');
is(q1(q{SELECT withdrawn_at IS NOT NULL FROM frt.consent WHERE subject = 's3'}), 't',
	"s3's withdrawal on the device withdrew the server's consent too");
is(q1(qq{SELECT count(DISTINCT receipt_seq) FROM frt.device_audit}), '2', 'two receipts');

# an empty sync acknowledges the same point
($state, $ack) = sync('dev1', payload($n2 + 1, $n2));
is($ack->{received_through}, $n2, 'an empty sync acknowledges the trail received so far');

# ---- the payload's birth date and guardian are checked against the trail's
# consent record: a child (guardian's consent) sent as an adult is refused
my $c7 = record(event => 'consent', outcome => 'given', purpose => 'door', subject => 's7',
	detail => '{"given_by": "guardian", "birth_date": "2016-03-03", "notice_version": 1}');
my $t7 = record(event => 'consent', outcome => 'transfer_given', purpose => 'door', subject => 's7');
my %face7 = (subject => 's7', purpose => 'door', embedding => '[1,0,1,0]', consent_seq => $c7,
	transfer_seq => $t7, birth_date => '1990-03-03');
($state, $ack) = sync('dev1', payload($n2 + 1, $t7, \%face7, { %face7, birth_date => '2016-03-03' }));
is($state, 'ok', 'a sync with a child sent as an adult is taken') or diag($ack);
is_deeply([ map { "$_->{subject}:$_->{sqlstate}" } @{ $ack->{refused} } ], [ 's7:MF006', 's7:MF006' ],
	"s7's face refused (MF006): a birth date, or a consent without its guardian, the trail does not state");
is(q1(q{SELECT count(*) FROM frt.subject WHERE id = 's7'}), '0', '... and s7 not registered');
$n2 = $t7;

# ---- a consent given again clears the transfer consent on the device (it
# asks for it anew): a face sent under the transfer consent before is refused
my $c6 = record(event => 'consent', outcome => 'given', purpose => 'door', subject => 's6',
	detail => '{"given_by": "self", "birth_date": "1975-06-06", "notice_version": 1}');
my $t6 = record(event => 'consent', outcome => 'transfer_given', purpose => 'door', subject => 's6');
my $r6 = record(event => 'consent', outcome => 'renewed', purpose => 'door', subject => 's6',
	detail => '{"given_by": "self", "birth_date": "1975-06-06", "notice_version": 1}');
my %face6 = (subject => 's6', purpose => 'door', embedding => '[1,1,0,0]', consent_seq => $c6,
	transfer_seq => $t6, birth_date => '1975-06-06');
($state, $ack) = sync('dev1', payload($n2 + 1, $r6, \%face6, { %face6, consent_seq => $r6 }));
is($state, 'ok', 'third sync accepted') or diag($ack);
is_deeply([ map { "$_->{subject}:$_->{sqlstate}" } @{ $ack->{refused} } ], [ 's6:MF008', 's6:MF008' ],
	"s6's face under the transfer consent its renewed consent cleared is refused (MF008)");
is(q1(q{SELECT count(*) FROM frt.face WHERE subject = 's6'}), '0', '... and not stored');
like(q1(q{SELECT detail->>'reason' FROM frt.audit WHERE event = 'refusal' AND subject = 's6' ORDER BY seq LIMIT 1}),
	qr/gave consent for purpose 'door' again on device 'cam-1'/, '... saying why');
$n2 = $r6;

# ---- the received trail: append-only, per processor
for my $sql ('UPDATE frt.device_audit SET subject = NULL', 'DELETE FROM frt.device_audit',
	'TRUNCATE frt.device_audit')
{
	($state) = as('postgres', $sql);
	is($state, 'MF141', "$sql: refused (MF141)");
}
is(q1(q{SELECT count(*) FROM frt.audit WHERE sqlstate = 'MF141' AND detail->>'function' = 'device_audit'}), '3',
	'... and on record');
($state, my $out) = as('auditor', 'SELECT count(*) FROM frt.device_audit');
is($out, $n2, 'the auditor reads the trail');
($state) = as('dev1', 'SELECT count(*) FROM frt.device_audit');
is($state, '42501', 'the device login does not read it');
q1(q{
INSERT INTO frt.processor VALUES ('Beta Ltd', 'dpo@beta.example');
CREATE ROLE beta_auditor LOGIN IN ROLE frt_auditor;
SELECT frt.processor_login('beta_auditor', 'Beta Ltd');
SELECT frt.processor_login('dev1', 'Acme Ltd');
SELECT frt.processor_login('auditor', 'Acme Ltd');
CREATE ROLE beta_dev LOGIN IN ROLE frt_enroller;
SELECT frt.processor_login('beta_dev', 'Beta Ltd');
});
($state, $out) = as('beta_auditor', 'SELECT count(*) FROM frt.device_audit');
is($out, '0', "another processor's auditor sees none of it");
($state, $out) = as('auditor', 'SELECT count(*) FROM frt.device_audit');
is($out, $n2, "its own processor's auditor still does");
($state) = sync('beta_dev', payload($n2 + 1, $n2));
is($state, 'MF145', "another processor's login is refused (MF145)");

# EXECUTE: not PUBLIC's
($state) = as('auditor', 'SELECT frt.device_sync(\'{}\')');
is($state, '42501', 'device_sync is not granted to PUBLIC');

# ---- a device of the SQLite edition, through the sqlite3 shell
SKIP:
{
	my $tree = $ENV{TESTDIR};
	skip "the SQLite edition's governance and gallery are not in this tree", 1
	  unless -e "$tree/sqlite/sq_gov.h" && -e "$tree/sqlite/sq_gallery.h";
	my ($out, $err) = ('', '');
	ok(IPC::Run::run([ 'make', '-s', '-C', $tree, '-f', 'mk/sqlite.mk' ], '>', \$out, '2>', \$err),
		'make -f mk/sqlite.mk builds the SQLite edition')
	  or diag("$out\n$err");
	my $lib = "$tree/frt_sqlite";
	my $db = $node->basedir . '/device.db';

	# Run statements on the device (the extension loaded first); returns stdout.
	my $dev = sub {
		my ($sql) = @_;
		my ($o, $e) = ('', '');
		IPC::Run::run([ 'sqlite3', '-batch', '-noheader', $db ], '<', \".load $lib\n$sql\n", '>', \$o, '2>', \$e);
		$o =~ s/\n$//;
		return $e eq '' ? $o : "$o\nERROR: $e";
	};
	q1(q{
		INSERT INTO frt.device (name, location_type) VALUES ('cam-3', 'workplace');
		CREATE ROLE dev3 LOGIN IN ROLE frt_enroller;
		SELECT frt.processor_login('dev3', 'Acme Ltd');
		SELECT frt.grant_application('dev3', 'door', ARRAY['enrol']);
		SELECT frt.bind_device('cam-3', 'dev3');
	});
	# a gallery with mixed transfer consent; a verification (a similarity in the trail)
	$dev->(q{
		SELECT frt_device_init('cam-3', 'Acme Ltd', 4);
		SELECT frt_purpose_add('door', 'office door', 365, 0.6);
		SELECT frt_notice_publish('door', 'We compare your face.');
		SELECT frt_consent_give('d1', 'door', 1, '1990-01-01');
		SELECT frt_consent_transfer('d1', 'door');
		SELECT frt_consent_give('d2', 'door', 1, '1991-02-02');
		SELECT frt_consent_give('d3', 'door', 1, '1992-03-03');
		SELECT frt_consent_transfer('d3', 'door');
		SELECT frt_enroll('d1', 'door', '[1,0,0,0]');
		SELECT frt_enroll('d2', 'door', '[0,1,0,0]');
		SELECT frt_enroll('d3', 'door', '[0,0,1,0.5]');
		SELECT frt_verify('d1', 'door', '[0.9,0.1,0.2,0]');
	});
	my $payload = $dev->('SELECT frt_sync_export();');
	my $p = eval { $exact->decode($payload) };
	ok($p, 'frt_sync_export() returns a JSON payload') or diag($payload);
	is_deeply([ map { $_->{subject} } @{ $p->{faces} } ], [qw(d1 d3)], 'only transfer-consented faces are in it');
	is($dev->(q{SELECT count(*) FROM frt_audit WHERE event = 'export' AND outcome = 'refused'
			AND sqlstate = 'MF008' AND subject = 'd2';}), '1', "d2's face withheld, audited on the device");
	my ($last) = grep { $_->{event} eq 'export' && $_->{outcome} eq 'exported' } @{ $p->{audit} };
	ok($last && $last->{seq} == $p->{audit}[-1]{seq}, 'the export is audited, and its record is the last one shipped');

	# tampered: an edited detail, a dropped record; refused whole
	my $t = $exact->decode($payload);
	$t->{audit}[3]{detail}{notice_version} = 2;
	($state) = sync('dev3', $exact->encode($t));
	is($state, 'MF148', "the device's trail with an edited record is refused (MF148)");
	$t = $exact->decode($payload);
	splice(@{ $t->{audit} }, 5, 1);
	($state) = sync('dev3', $exact->encode($t));
	is($state, 'MF148', '... and with a dropped record');
	is(q1(q{SELECT count(*) FROM frt.device_audit WHERE device = 'cam-3'}), '0', '... nothing stored');

	# sent, with a forged face for d2 (the device withheld it)
	$t = $exact->decode($payload);
	my ($c2) = grep { ($_->{subject} // '') eq 'd2' && $_->{outcome} eq 'given' } @{ $t->{audit} };
	push @{ $t->{faces} }, { subject => 'd2', purpose => 'door', embedding => '[0,1,0,0]',
		consent_seq => $c2->{seq}, transfer_seq => $c2->{seq} + 1, birth_date => '1991-02-02' };
	($state, $ack) = sync('dev3', $exact->encode($t));
	is($state, 'ok', "the device's own trail verifies on the server") or diag($ack);
	is_deeply([ map { $_->{subject} } @{ $ack->{accepted} } ], [qw(d1 d3)], 'd1 and d3 accepted');
	is_deeply([ map { "$_->{subject}:$_->{sqlstate}" } @{ $ack->{refused} } ], ['d2:MF008'],
		'the forged d2 refused (MF008)');
	is(q1(q{SELECT count(*) FROM frt.audit WHERE event = 'device_sync' AND outcome = 'face_refused'
			AND subject = 'd2' AND device = 'cam-3'}), '1', '... on the server\'s record');
	is(q1(q{SELECT count(*) FROM frt.device_audit WHERE device = 'cam-3' AND event = 'export'
			AND outcome = 'refused' AND subject = 'd2'}), '1', "... and the device's refusal is in its trail there");
	is(q1(q{SELECT count(*) FROM frt.device_audit WHERE device = 'cam-3' AND similarity IS NOT NULL}), '1',
		'the verification record (with its similarity) verified too');
	is(q1(q{SELECT string_agg(subject, ',' ORDER BY subject) FROM frt.face WHERE device = 'cam-3'}), 'd1,d3',
		'the server holds d1 and d3 from cam-3');

	# the device records the reply and ships only new records next time
	my $ackjson = $json->encode($ack);
	$ackjson =~ s/'/''/g;
	is($dev->("SELECT frt_sync_ack('$ackjson');"), $ack->{received_through}, 'frt_sync_ack advances to the acknowledged seq');
	is($dev->(q{SELECT group_concat(subject || ':' || outcome, ',') FROM frt_audit WHERE event = 'sync'
			AND subject IS NOT NULL;}), 'd1:accepted,d3:accepted', 'each verdict audited on the device');
	($state, my $ackagain) = sync('dev3', $payload);
	is($state, 'ok', 'the first payload again (as after a lost acknowledgement): answered again') or diag($ackagain);
	is(q1(q{SELECT string_agg(subject, ',' ORDER BY subject) FROM frt.face WHERE device = 'cam-3'}), 'd1,d3',
		'... d1 and d3 not enrolled twice');

	$dev->(q{
		SELECT frt_withdraw('d3', 'door');
		SELECT frt_consent_give('d4', 'door', 1, '1980-04-04');
		SELECT frt_consent_transfer('d4', 'door');
		SELECT frt_enroll('d4', 'door', '[0,0,0,1]');
	});
	my $p2text = $dev->('SELECT frt_sync_export();');
	my $p2 = $exact->decode($p2text);
	is($p2->{audit}[0]{seq}, $ack->{received_through} + 1, 'the second payload starts after the acknowledged record');
	is_deeply([ map { $_->{subject} } @{ $p2->{faces} } ], ['d4'], '... and holds only the new face');
	my $before = q1(q{SELECT count(*) FROM frt.device_audit WHERE device = 'cam-3'});
	($state, my $ack2) = sync('dev3', $p2text);
	is($state, 'ok', 'second sync accepted') or diag($ack2);
	is(q1(q{SELECT count(*) FROM frt.device_audit WHERE device = 'cam-3'}) - $before, scalar @{ $p2->{audit} },
		'only the new records were added');
	is(q1(q{SELECT withdrawn_at IS NOT NULL FROM frt.consent WHERE subject = 'd3'}), 't',
		"d3's withdrawal on the device withdrew the server's consent");
	my $bad = $json->encode({ %$ack2, received_hash => '00' x 32 });
	like($dev->("SELECT frt_sync_ack('$bad');"), qr/MF148: the server's acknowledgement does not match/,
		'an acknowledgement that does not match the trail is refused on the device (MF148)');
	is($dev->(q{SELECT count(*) FROM frt_audit WHERE event = 'refusal' AND sqlstate = 'MF148';}), '1',
		'... audited on the device');
	$ackjson = $json->encode($ack2);
	is($dev->("SELECT frt_sync_ack('$ackjson');"), $ack2->{received_through}, 'second acknowledgement recorded');
	is($dev->(q{SELECT json_extract(frt_sync_status(), '$.faces.accepted');}), '2',
		'd1 and d4 accepted (d3 erased on the device since)');
	is($dev->('SELECT frt_audit_verify();'), 'ok', "the device's trail still verifies on the device");
	is(q1(q{SELECT bool_and(frt._device_record_hash(a) = a.hash) FROM frt.device_audit a}), 't',
		'every stored trail verifies on the server');
}

done_testing();
