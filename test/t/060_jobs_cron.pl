# Erasure through pg_cron, for real: faces whose retention ended (adult and
# minor), whose consent was withdrawn and whose subject was erased leave the
# table, the index and the heap files after the scheduled purge, VACUUM and
# scrub jobs run; a streaming replica and crash recovery end with the same
# scrubbed files.  Kept faces stay (and are found by the same byte scan,
# so the scan can fail).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $DIM = 128;

# Component i of face n, exactly as test/sql/jobs_fixture.sql makes it.
sub component
{
	my ($n, $i) = @_;
	my $h1 = (($n * 4099 + $i) * 1103515245 + 12345) & 2147483647;
	my $h3 = (($h1 ^ ($h1 >> 13)) * 1103515245 + 12345) & 2147483647;
	my $h4 = $h3 ^ ($h3 >> 16);
	return ($h4 % 131071 - 65535) / 65536.0;
}

# The stored bytes of face n: the sealed envelope frt.face.embedding holds
# (read once after enrolment; faces are never stored in clear).
my %sealed;
sub face_bytes
{
	my ($n) = @_;
	die "face $n was not read" unless exists $sealed{$n};
	return $sealed{$n};
}

# Bytes of all files (all segments) of a relation.
sub rel_bytes
{
	my ($node, $relexpr) = @_;
	my $path = $node->safe_psql('postgres', "SELECT pg_relation_filepath($relexpr)");
	return '' if $path eq '';
	my $bytes = '';
	foreach my $f (sort glob($node->data_dir . "/$path" . '{,.[0-9]*}'))
	{
		next unless -f $f;
		$bytes .= slurp_file($f);
	}
	return $bytes;
}

# Does any 32-byte window (at five places) of face n occur in $bytes?
sub has_fragment
{
	my ($bytes, $n) = @_;
	my $v = face_bytes($n);
	foreach my $off (0, 128, 256, 384, length($v) - 32)
	{
		return 1 if index($bytes, substr($v, $off, 32)) >= 0;
	}
	return 0;
}

# The frt_ivf index rows of each face, read from the index files: standard
# page layout, items of an frt_ivf row (heap TID, flags, three floats, one
# int8 code per dimension); returns { "block,offset" => payload after TID }.
sub ivf_rows
{
	my ($bytes) = @_;
	my %rows;
	# sealed row: TID and flags, then the envelope (34 bytes) around the
	# scale, residual and norms (16 bytes) and the code
	my $rowlen = 8 + 34 + 16 + $DIM;
	for (my $p = 0; $p + 8192 <= length($bytes); $p += 8192)
	{
		my $page = substr($bytes, $p, 8192);
		my ($lower, $upper, $special) = unpack('v3', substr($page, 12, 6));
		next if $lower < 24 || $lower > $upper || $upper > $special || $special > 8192;
		for (my $lp = 24; $lp + 4 <= $lower; $lp += 4)
		{
			my $w = unpack('V', substr($page, $lp, 4));
			my ($off, $flags, $len) = ($w & 0x7fff, ($w >> 15) & 3, $w >> 17);
			# the row, possibly stored with its MAXALIGN padding
			next unless $flags == 1 && ($len == $rowlen || $len == (($rowlen + 7) & ~7))
			  && $off + $len <= 8192;
			my ($bhi, $blo, $posn) = unpack('v3', substr($page, $off, 6));
			$rows{ ($bhi << 16 | $blo) . ",$posn" } = substr($page, $off + 8, $rowlen - 8);
		}
	}
	return \%rows;
}

# Does any 24-byte window (at four places) of an index row payload occur?
sub has_row_fragment
{
	my ($bytes, $payload) = @_;
	foreach my $off (0, 40, 80, length($payload) - 24)
	{
		return 1 if index($bytes, substr($payload, $off, 24)) >= 0;
	}
	return 0;
}

# Heap, TOAST and every index of frt.face, per node.
sub face_files
{
	my ($node) = @_;
	my %files = (heap => rel_bytes($node, "'frt.face'::regclass"));
	my $toast = $node->safe_psql('postgres',
		"SELECT reltoastrelid FROM pg_class WHERE oid = 'frt.face'::regclass");
	$files{toast} = rel_bytes($node, $toast) if $toast ne '0';
	foreach my $idx (split /\n/, $node->safe_psql('postgres',
		"SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'frt.face'::regclass"))
	{
		$files{"index $idx"} = rel_bytes($node, "'$idx'::regclass");
	}
	return \%files;
}

my $node = PostgreSQL::Test::Cluster->new('jobs_cron');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'frt_governance,pg_cron'
cron.database_name = 'postgres'
max_worker_processes = 24
autovacuum = off
});
gov_keys($node);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron; CREATE EXTENSION frt_governance CASCADE;');

# A streaming replica, to check that the scrub reaches it through WAL.
$node->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('jobs_standby');
$standby->init_from_backup($node, 'b1', has_streaming => 1);
$standby->start;

# Faces: 1 and 10..59 stay; 2 consent withdrawn; 3 retention of 1 second;
# 4 a child past the purpose's minor retention (7 days); 5 subject erased.
my $fixture = slurp_file(($ENV{TESTDIR} // ".") . "/test/sql/jobs_fixture.sql");
$node->safe_psql('postgres', "\\set purpose jobs_door\n$fixture\n" . q{
SET client_min_messages = warning;
SELECT frt.register_subject('t' || n, CASE WHEN n = 4 THEN current_date - 3650 ELSE '1980-01-01'::date END)
  FROM (SELECT unnest(ARRAY[1, 2, 3, 4, 5]) UNION ALL SELECT generate_series(10, 59)) s(n);
SELECT frt.give_consent('t' || n, 'jobs_door', CASE WHEN n = 4 THEN 'guardian' ELSE 'self' END, 'written',
						CASE WHEN n = 4 THEN 'guardian-4' END)
  FROM (SELECT unnest(ARRAY[1, 2, 3, 4, 5]) UNION ALL SELECT generate_series(10, 59)) s(n);
SELECT frt.enroll('t' || n, 'jobs_door', pg_temp.emb(n), 'jobs-cam',
				  CASE WHEN n = 3 THEN interval '1 second' END)
  FROM (SELECT unnest(ARRAY[1, 2, 3, 4, 5]) UNION ALL SELECT generate_series(10, 59)) s(n);
});

foreach my $line (split /\n/, $node->safe_psql('postgres',
	"SELECT substr(subject, 2) || ' ' || encode(embedding, 'hex') FROM frt.face"))
{
	my ($n, $hex) = split / /, $line;
	$sealed{$n} = pack('H*', $hex);
}
is(scalar(keys %sealed), 55, 'every face is stored, sealed');
ok(!(grep { my $n = $_; index($sealed{$n}, pack("f<*", map { component($n, $_) } 1 .. 8)) >= 0 } keys %sealed),
	'no stored face holds its vector in clear');

# The frt_ivf index, when the index layer is present.
my $have_ivf = $node->safe_psql('postgres', "SELECT count(*) FROM pg_am WHERE amname = 'frt_ivf'");
if ($have_ivf
	&& !$node->safe_psql('postgres',
		"SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
		  WHERE i.indrelid = 'frt.face'::regclass AND a.amname = 'frt_ivf'"))
{
	$node->safe_psql('postgres',
		'CREATE INDEX face_embedding_ivf ON frt.face USING frt_ivf (frt._face_open(id, embedding)) WITH (lists = 2)');
}

my $ivf_index = $have_ivf ? $node->safe_psql('postgres', q{
SELECT c.oid::regclass FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
 WHERE i.indrelid = 'frt.face'::regclass AND a.amname = 'frt_ivf' ORDER BY c.oid LIMIT 1}) : '';

# Each face's frt_ivf index row, as written by the build (TID -> payload).
my %ivf_payload;
if ($have_ivf)
{
	$node->safe_psql('postgres', 'CHECKPOINT');
	my $rows = ivf_rows(rel_bytes($node, "'$ivf_index'::regclass"));
	foreach my $line (split /\n/, $node->safe_psql('postgres',
		"SELECT substr(subject, 2) || ' ' || trim(both '()' from ctid::text) FROM frt.face"))
	{
		my ($n, $tid) = split / /, $line;
		$ivf_payload{$n} = $rows->{$tid} if exists $rows->{$tid};
	}
	is(scalar(keys %ivf_payload), 55, 'every face has its row in the frt_ivf index file');
}

$node->safe_psql('postgres', q{
SELECT frt.withdraw_consent('t2', 'jobs_door');
UPDATE frt.face SET enrolled_at = enrolled_at - interval '8 days' WHERE subject = 't4';
SELECT frt.erase_subject('t5');
CHECKPOINT;
});

# Before the jobs: every face's bytes are in the heap file (the scan works).
my $files = face_files($node);
ok(has_fragment($files->{heap}, $_), "before: face $_ found in the heap file") for (1 .. 5, 10);
my $index_has_floats = 0;
foreach my $k (grep { /^index/ } keys %$files)
{
	$index_has_floats ||= has_fragment($files->{$k}, 1);
}
diag("index files hold float vectors: " . ($index_has_floats ? 'yes' : 'no (codes only)'));

# Without pg_cron in the database, a clear error.  (Done before scheduling:
# pg_cron 1.4 loses a job change when a burst of catalog changes, such as
# this CREATE EXTENSION in another database, overflows its launcher's
# invalidation queue before it wakes; see docs/operations.md.)
$node->safe_psql('postgres', 'CREATE DATABASE nocron');
$node->safe_psql('nocron', 'CREATE EXTENSION frt_governance CASCADE');
my ($ret, $out, $err) = $node->psql('nocron', 'SELECT frt.schedule_jobs()');
like($err, qr/pg_cron is not installed in database "nocron"/, 'no pg_cron: clear error');

# Scheduling: idempotent.
my $minute = $node->safe_psql('postgres', q{
SELECT (extract(minute FROM now() AT TIME ZONE 'UTC')::int
		+ CASE WHEN extract(second FROM now()) < 55 THEN 1 ELSE 2 END) % 60});
my ($m0, $m1, $m2) = map { ($minute + $_) % 60 } 0 .. 2;
my $sched = "'$m0 * * * *', '$m1 * * * *', '$m2 * * * *', '$m0 * * * *', '$m0 * * * *'";
$node->safe_psql('postgres', "SELECT count(*) FROM frt.schedule_jobs($sched)");
my $jobs = $node->safe_psql('postgres', "SELECT count(*) FROM frt.schedule_jobs($sched)");
is($node->safe_psql('postgres', "SELECT count(*) FROM cron.job WHERE jobname LIKE 'frt-%'"),
	$jobs, 'schedule_jobs twice: each job once');
# The test server listens on no TCP address: jobs connect through the socket.
is($node->safe_psql('postgres', "SELECT DISTINCT nodename FROM cron.job WHERE jobname LIKE 'frt-%'"),
	$node->host, 'jobs connect through the socket directory');
is($node->safe_psql('postgres', "SELECT command FROM cron.job WHERE jobname = 'frt-vacuum'"),
	'VACUUM (INDEX_CLEANUP ON) frt.face', 'the VACUUM job is a single statement');

# Let pg_cron run the chain: purge, then VACUUM a minute later, then scrub.
foreach my $job ('frt-purge', 'frt-vacuum', 'frt-scrub')
{
	ok( $node->poll_query_until('postgres', qq{
SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
 WHERE j.jobname = '$job' AND d.status IN ('succeeded', 'failed')}),
		"$job ran");
	# (return_message: 'SELECT 1' in background workers, '1 row' over libpq)
	like( $node->safe_psql('postgres', qq{
SELECT string_agg(d.status || ': ' || coalesce(d.return_message, ''), '; ')
  FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = '$job'}),
		$job eq 'frt-vacuum' ? qr/^succeeded: VACUUM$/ : qr/^succeeded: (SELECT 1|1 row)$/,
		"$job succeeded");
}
ok( $node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
 WHERE j.jobname = 'frt-filing-check' AND d.status = 'succeeded'}),
	'filing check ran');

# The table: erased faces gone, kept faces there.
is( $node->safe_psql('postgres',
		"SELECT string_agg(subject, ',' ORDER BY subject) FROM frt.face WHERE subject IN ('t1','t2','t3','t4','t5')"),
	't1', 'only the kept face remains of t1..t5');
is($node->safe_psql('postgres', "SELECT count(*) FROM frt.face WHERE subject LIKE 't__'"),
	'50', 'the 50 other faces remain');

# The evidence: every erased face confirmed gone from table, index, files.
is( $node->safe_psql('postgres', q{
SELECT string_agg(r.face_id || ':' || r.status || ':' || r.reason, ',' ORDER BY r.face_id)
  FROM unnest(ARRAY['t2', 't3', 't4', 't5']) s, frt.erasure_report(s) r}),
	'2:erased:withdrawal,3:erased:retention,4:erased:minor_retention,5:erased:erasure',
	'erasure_report: each erased face erased from table, index and heap');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM frt.audit WHERE event = 'erasure_confirmed' AND subject IN ('t2','t3','t4','t5')"),
	'4', 'one erasure_confirmed audit record per subject');
is( $node->safe_psql('postgres', "SELECT status FROM frt.erasure_report('t1')"),
	'stored', 'kept face is reported stored');

SKIP:
{
	skip 'no frt_ivf index (index layer not merged)', 1 unless $have_ivf;
	is( $node->safe_psql('postgres', q{
SELECT count(*) FROM pg_index i, frt.index_check(i.indexrelid)
 WHERE i.indrelid = 'frt.face'::regclass
   AND i.indexrelid IN (SELECT c.oid FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'frt_ivf')}),
		'0', 'frt.index_check: index healthy after erasure');
}

# The files, after CHECKPOINT: on the primary and on the replica.
sub check_files
{
	my ($n, $label, @erased) = @_;
	my $f = face_files($n);
	foreach my $k (sort keys %$f)
	{
		ok(!has_fragment($f->{$k}, $_), "$label: erased face $_ not in $k file") for @erased;
	}
	ok(has_fragment($f->{heap}, $_), "$label: kept face $_ still in heap file") for (1, 11, 59);
	if (%ivf_payload)
	{
		my $ivf = $f->{"index $ivf_index"};
		ok(!has_row_fragment($ivf, $ivf_payload{$_}), "$label: code of erased face $_ not in the frt_ivf index file")
		  for @erased;
		ok(has_row_fragment($ivf, $ivf_payload{$_}), "$label: code of kept face $_ still in the frt_ivf index file")
		  for (1, 11, 59);
	}
	if ($index_has_floats)
	{
		my @idx = grep { /^index/ } keys %$f;
		ok((grep { has_fragment($f->{$_}, 1) } @idx), "$label: kept face 1 still in an index file");
	}
}

$node->safe_psql('postgres', 'CHECKPOINT');
check_files($node, 'primary', 2 .. 5);

$node->wait_for_catchup($standby, 'replay', $node->lsn('insert'));
$standby->safe_psql('postgres', 'CHECKPOINT');
check_files($standby, 'replica', 2 .. 5);

# Crash recovery: one more erasure, by hand this time and with only the
# purge and a VACUUM (frt.scrub_on_vacuum scrubs the pages VACUUM changed),
# then an immediate stop before any checkpoint; replay must end with the
# scrubbed pages.
$node->safe_psql('postgres', q{
SELECT frt.withdraw_consent('t10', 'jobs_door');
SELECT frt.purge();
VACUUM (INDEX_CLEANUP ON) frt.face;
});
is($node->safe_psql('postgres', "SELECT status FROM frt.erasure_report('t10')"),
	'erased', 'purge + VACUUM: face 10 erased from table, index and heap');
$node->stop('immediate');
$node->start;
$node->safe_psql('postgres', 'CHECKPOINT');
check_files($node, 'after crash recovery', 2 .. 5, 10);

# Unscheduling removes every frt job.
$node->safe_psql('postgres', 'SELECT frt.unschedule_jobs()');
is($node->safe_psql('postgres', "SELECT count(*) FROM cron.job WHERE jobname LIKE 'frt-%'"),
	'0', 'unschedule_jobs removes the jobs');

$standby->stop;
$node->stop;
done_testing();
