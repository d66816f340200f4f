# pg_dump keeps the audit trail and its retention anchor; a restore (plain
# script or pg_restore) into a new database reproduces it exactly, without
# re-auditing the registry rows it reloads; the chain verifies and new
# records continue it.  A dump whose trail was edited (one record changed,
# or one removed) does not restore, and ordinary inserts stay refused.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('audit_dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;

my $fixture = slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/4/g;
$node->safe_psql('postgres', $fixture);
$node->safe_psql('postgres', q{
	SELECT frt.register_subject('s' || i, '1990-01-01') FROM generate_series(1, 3) i;
	SELECT frt.give_consent('s' || i, 'door', 'self', 'written') FROM generate_series(1, 3) i;
	SELECT frt.enroll('s' || i, 'door', ARRAY[i, 1, 0, 0]::float4[]::frt.face_embedding, 'd1')
	FROM generate_series(1, 3) i;
	SELECT frt.verify('s1', 'door', '[1,1,0,0]', 'd1');
	SELECT frt.audit_event('note', 'ok', NULL, 'it''s "quoted"', NULL, 0.5, 'MF006',
		'{"a": [1, 2], "b": "tab\there"}');
});

# Every column of every record, and the anchor.
my $trail_sql = q{SELECT md5(coalesce(string_agg(a::text, '|' ORDER BY seq), '')) || ' '
	|| count(*) || ' ' || (SELECT n::text FROM frt.audit_anchor n) FROM frt.audit a};
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $round = 0;

# Dump in both formats, restore each into a new database, compare, extend.
sub dump_and_restore
{
	my ($label) = @_;
	$round++;
	for my $fmt ('p', 'c')
	{
		# as of this dump: each dump's read of the embeddings is on record
		# after it (event embedding_read), in the next dump's trail
		my $trail = $node->safe_psql('postgres', $trail_sql);
		my $db = "r${round}_$fmt";
		my $file = "$tmp/dump$round.$fmt";
		$node->command_ok([ 'pg_dump', '-F', $fmt, '-f', $file, '-d', $node->connstr('postgres') ],
			"$label: pg_dump -F $fmt");
		$node->safe_psql('postgres', "CREATE DATABASE $db");
		{
		# the explicit restore mode, for every session of the restore
		local $ENV{PGOPTIONS} = '-c frt.restore=on';
		if ($fmt eq 'p')
		{
			$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $file,
				'-d', $node->connstr($db) ], "$label: plain restore succeeds");
		}
		else
		{
			$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr($db), $file ],
				"$label: pg_restore succeeds");
		}
		}
		is($node->safe_psql($db, $trail_sql), $trail,
			"$label -F $fmt: trail and anchor restored exactly, no record added by the reload");
		is($node->safe_psql($db, 'SELECT ok FROM frt.verify_audit_chain()'), 't',
			"$label -F $fmt: chain verifies after restore");
		my $fin = $node->safe_psql($db, q{SELECT chain_ok, restore_seq FROM frt.restore_finish()});
		is($fin, 't|' . $node->safe_psql($db, q{SELECT max(seq) FROM frt.audit WHERE event = 'restore'}),
			"$label -F $fmt: restore_finish verifies and records the restore");
		my $next = $node->safe_psql($db, 'SELECT max(seq) + 1 FROM frt.audit');
		is($node->safe_psql($db, q{SELECT frt.audit_event('after_restore', 'ok')}), $next,
			"$label -F $fmt: a new record continues the sequence");
		is($node->safe_psql($db, 'SELECT ok FROM frt.verify_audit_chain()'), 't',
			"$label -F $fmt: and the chain");
		my ($rc, $out, $err) = $node->psql($db,
			q{INSERT INTO frt.audit SELECT seq + 1, at, event, outcome, sqlstate, role_name,
				effective_role, application, client_addr, backend_pid, purpose, subject, device,
				similarity, detail, hash, hash FROM frt.audit ORDER BY seq DESC LIMIT 1});
		like($err, qr/INSERT on frt\.audit refused: the audit trail is append-only/,
			"$label -F $fmt: an ordinary insert is still refused after restore");
		($rc, $out, $err) = $node->psql($db,
			q{SET frt.restore = on;
			  INSERT INTO frt.audit SELECT seq + 1, at, event, outcome, sqlstate, role_name,
				effective_role, application, client_addr, backend_pid, purpose, subject, device,
				similarity, detail, hash, hash FROM frt.audit ORDER BY seq DESC LIMIT 1});
		like($err, qr/restore of frt\.audit refused .*the trail already holds records/,
			"$label -F $fmt: restore mode cannot append to a live trail");
	}
}

dump_and_restore('whole trail');

# A retention purge moves the anchor; the dump keeps it.  (Records made old
# by an untriggered edit: the purge drops them, the rest still verifies.)
$node->safe_psql('postgres', q{
	ALTER TABLE frt.audit DISABLE TRIGGER audit_append_only;
	UPDATE frt.audit SET at = at - interval '4 years' WHERE seq <= 4;
	ALTER TABLE frt.audit ENABLE ALWAYS TRIGGER audit_append_only;
});
is($node->safe_psql('postgres', 'SELECT frt.audit_retention_purge()'), '4', 'purge of 4 old records');
is($node->safe_psql('postgres', 'SELECT last_seq FROM frt.audit_anchor'), '4', 'anchor moved');
is($node->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'), 't', 'source chain verifies');
dump_and_restore('after a purge');

# Tampered dumps: one record edited, one record removed, the anchor moved.
my $plain = slurp_file("$tmp/dump1.p");
my @cases = (
	[ 'edited record', sub { $_[0] =~ s/(\t)note(\tok\t)/$1nota$2/ } ,
		qr/restore of frt\.audit refused at seq \d+: content does not match its hash/ ],
	[ 'removed record', sub { $_[0] =~ s/(COPY frt\.audit \(.*?\n(?:[^\n]*\n){2})[^\n]*\n/$1/s },
		qr/restore of frt\.audit refused at seq 3: record missing: expected seq 3, next present is 4/ ],
	[ 'removed first record', sub { $_[0] =~ s/(COPY frt\.audit \(.*?\n)[^\n]*\n/$1/s },
		qr/restore of frt\.audit refused at seq 2: the restored trail starts after seq 1 but records no retention purge/ ],
);
my $k = 0;
for my $c (@cases)
{
	my ($label, $edit, $re) = @$c;
	my $text = $plain;
	ok($edit->($text), "$label: dump file edited");
	my $file = "$tmp/tampered$k.sql";
	open my $fh, '>', $file or die;
	print $fh $text;
	close $fh;
	$node->safe_psql('postgres', "CREATE DATABASE t$k");
	local $ENV{PGOPTIONS} = '-c frt.restore=on';
	my ($ret, $out, $err) = $node->psql("t$k", undef, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', $file ]);
	isnt($ret, 0, "$label: the restore fails");
	like($err, $re, "$label: the broken record is named");
	$k++;
}

# A tampered anchor in a custom dump of the purged trail.
my $purged = slurp_file("$tmp/dump2.p");
like($purged, qr/COPY frt\.audit_anchor .*?\n4\t/s, 'the purged dump holds the moved anchor');
(my $forged = $purged) =~ s/(COPY frt\.audit_anchor .*?\n)4\t/${1}3\t/s;
open my $fh, '>', "$tmp/forged.sql" or die;
print $fh $forged;
close $fh;
$node->safe_psql('postgres', 'CREATE DATABASE forged');
local $ENV{PGOPTIONS} = '-c frt.restore=on';
my ($ret, $out, $err) = $node->psql('forged', undef, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/forged.sql" ]);
isnt($ret, 0, 'forged anchor: the restore fails');
like($err, qr/restore of frt\.audit_anchor refused at seq 3: it does not match where the restored trail starts/,
	'forged anchor: named');

$node->stop;
done_testing();
