# Upgrading from the previous release keeps every row and ends with the same
# extensions as a fresh install.
#
# The previous release is the newest tag v<version> reachable from HEAD whose
# versions differ from the control files' (else the newest such tag), or the
# tag named by FRT_UPGRADE_FROM; FRT_TAG_PREFIX changes the "v".  A clone
# without tags falls back to the newest release commit ("Release X.Y.Z").  The test
# needs the repository: FRT_GIT_DIR (scripts/test.sh sets it).  With a
# repository but no release tag it fails, saying so.
#
# In a private copy of the PostgreSQL installation (tmp_check/upgrade/pg) it
# builds and installs the old release (git archive of the tag), loads a
# realistic data set into a cluster that preloads frt_governance (the old
# release's scripts/demo.sql: purposes, subjects, consents, faces, a
# per-purpose frt_ivf index, audit records; plus a core table with its own
# frt_ivf index), stops it, installs the current tree over it, starts it
# and runs ALTER EXTENSION ... UPDATE.  Then: the versions are the control
# files', every row of every extension table and of the core table is kept,
# the audit chain verifies and goes on, frt.index_check finds nothing on any
# frt_ivf index, 1:N identification and core k-NN answer as before, a new
# enrolment is found, and the catalog (test/ext_objects.sql) of the updated
# extensions equals a fresh install's, in a database with data and in one
# without: a missing or incomplete sql/upgrade script fails here.
use strict;
use warnings;
use File::Path qw(rmtree);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $tree = $ENV{TESTDIR};
my $gitdir = $ENV{FRT_GIT_DIR};
plan skip_all => 'FRT_GIT_DIR is not set: no repository to take the previous release from '
  . '(scripts/test.sh sets it when run from a git checkout)'
  unless $gitdir;

my @exts = ('frt', 'frt_governance');
my $prefix = $ENV{FRT_TAG_PREFIX} // 'v';

# default_version of a control file's text.
sub control_version
{
	my ($text) = @_;
	return $text =~ /^\s*default_version\s*=\s*'([^']*)'/m ? $1 : undef;
}

# Output of a git command on the repository; dies on failure.
sub git
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'git', '-c', 'safe.directory=*', "--git-dir=$gitdir", @_ ], '>', \$out, '2>', \$err)
	  or die "git @_: $err";
	return $out;
}

my %current = map { $_ => control_version(slurp_file("$tree/$_.control")) } @exts;

# The release to upgrade from.
my $from = $ENV{FRT_UPGRADE_FROM};
if (!$from)
{
	my @tags = grep { $_ ne '' }
	  split /\n/, git('tag', '--merged', 'HEAD', '--list', "${prefix}[0-9]*", '--sort=-v:refname');
	# A clone that did not fetch tags still has the release commits
	# ("Release X.Y.Z", docs/releasing.md), newest first.
	@tags = map { (split / /)[0] } grep { $_ ne '' }
	  split /\n/, git('log', '-E', '--grep=^Release [0-9]+[.][0-9]+[.][0-9]+$', '--format=%H %s', 'HEAD')
	  unless @tags;
	if (!@tags)
	{
		fail("no release tag ${prefix}<version> or release commit is reachable from HEAD in $gitdir");
		diag("The upgrade test needs the previous release.  Before the first release, cut it "
			  . "(docs/releasing.md: scripts/release.sh, commit, tag ${prefix}<version>), "
			  . "or name any tag with FRT_UPGRADE_FROM=<tag>.");
		done_testing();
		exit;
	}
	# the newest whose version differs from the control files' (of either extension)
	($from) = grep {
		my $tag = $_;
		grep { (control_version(git('show', "$tag:$_.control")) // '') ne $current{$_} } @exts
	} @tags;
	$from //= $tags[0];
}
my %old = map { $_ => control_version(git('show', "$from:$_.control")) } @exts;
note("upgrading from $from (frt $old{frt}, frt_governance $old{frt_governance}) "
	  . "to frt $current{frt}, frt_governance $current{frt_governance}");

# A private copy of the PostgreSQL installation: both releases are installed into it.
my $work = "$PostgreSQL::Test::Utils::tmp_check/upgrade";
rmtree($work);
mkdir $work or die "mkdir $work: $!";
my $pg_config = `"$tree/scripts/private-pg.sh" "$work/pg"`;
chomp $pg_config;
die "private PostgreSQL copy failed" unless $? == 0 && -x $pg_config;
(my $install_path = $pg_config) =~ s{/bin/pg_config$}{};

# Build and install the tree in $dir into the copy.
sub build_install
{
	my ($dir) = @_;
	return run_log([ 'make', '-C', $dir, '-s', '-j2', "PG_CONFIG=$pg_config" ])
	  && run_log([ 'make', '-C', $dir, '-s', "PG_CONFIG=$pg_config", 'install' ]);
}

mkdir "$work/old" or die;
git('archive', '--format=tar', "--output=$work/old.tar", $from);
system('tar', '-x', '-f', "$work/old.tar", '-C', "$work/old") == 0 or die "tar failed";
ok(build_install("$work/old"), "old release $from built and installed");

my $node = PostgreSQL::Test::Cluster->new('upgrade', install_path => $install_path);
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;

# The data set: the old release's demo (ON_ERROR_STOP is on where it expects
# success; it schedules no job, so pg_cron is not needed).
my $demo = -f "$work/old/scripts/demo.sql" ? "$work/old/scripts/demo.sql" : "$tree/scripts/demo.sql";
my ($rc, $out, $err) = $node->psql('postgres', slurp_file($demo), on_error_stop => 1);
is($rc, 0, 'old release: the demo data set loads') or diag($err);
$node->safe_psql('postgres', q{
	CREATE TABLE core_faces (id int PRIMARY KEY, e frt.face_embedding(64));
	INSERT INTO core_faces
	SELECT i, (SELECT array_agg((sin((i % 37) * 1.3 + j * 0.7) + 0.4 * sin(i * 12.9898 + j * 78.233))::real
							   ORDER BY j) FROM generate_series(1, 64) j)::real[]::frt.face_embedding
	  FROM generate_series(1, 3000) i;
	CREATE INDEX core_faces_ivf ON core_faces USING frt_ivf (e frt.face_l2_ops);
	ANALYZE core_faces;
	CREATE DATABASE bare;
});
$node->safe_psql('bare', 'CREATE EXTENSION frt_governance CASCADE');

# Indexes the data set added to the extensions' tables: not the extensions'.
my $index_sql = q{SELECT i.indexrelid::regclass FROM pg_index i JOIN pg_depend d
	ON d.objid = i.indrelid AND d.classid = 'pg_class'::regclass AND d.deptype = 'e'
	ORDER BY 1};
my %bare_index = map { $_ => 1 } split /\n/, $node->safe_psql('bare', $index_sql);
my @user_index = grep { !$bare_index{$_} } split /\n/, $node->safe_psql('postgres', $index_sql);

# One query per table of the extensions (and the core table): row count and a
# digest of the rows, over the columns the old release has.
my @digest_sql;
my @digest_after_sql;
for my $row (split /\n/, $node->safe_psql('postgres', q{
	SELECT c.oid::regclass, c.relkind,
		   string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
	  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	 WHERE c.relkind IN ('r', 'S')
	   AND (c.oid = 'core_faces'::regclass
			OR EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
					   AND d.objid = c.oid AND d.deptype = 'e'))
	 GROUP BY c.oid, c.relkind ORDER BY 1}))
{
	my ($rel, $kind, $cols) = split /\|/, $row;
	$cols = 'last_value, is_called' if $kind eq 'S';
	# The audit trail only grows: reading faces, matching and the update's
	# own DDL add records (and move the head mark), so its rows up to the
	# newest one before the update must be kept, and the chain (checked
	# below) must run on from them.
	next if $rel eq 'frt.audit_mark';
	my $where = $rel eq 'frt.audit' ? ' WHERE seq <= :audit_upto' : '';
	# Rows the update adds by design, left out after it: the working-day
	# calendar shipped with the release, and the new layers' handlers.
	my %added = (
		'frt.holiday' => ' WHERE NOT shipped',
		'frt.extension_hook' => " WHERE handler NOT IN ('_filing_compliance', '_rights_compliance')");
	my $where_after = $added{$rel} // $where;
	# What the update changes by design: faces are sealed (compared by the
	# vector they open to) and the per-purpose indexes are built again on
	# frt._face_open(id, embedding) (compared by name and definition).
	my $cols_after = $cols;
	if ($rel eq 'frt.face')
	{
		$cols_after =~ s/\bembedding\b/frt._face_open(id, embedding)/;
	}
	elsif ($rel eq 'frt.purpose')
	{
		# a purpose that named no processor gets the installation's first
		$cols =~ s/\bprocessor\b/COALESCE(processor, (SELECT p.name FROM frt.processor p ORDER BY p.registered_at, p.name LIMIT 1))/;
	}
	elsif ($rel eq 'frt.filing_state')
	{
		# one row per processor now: the single row's id (always 1) is gone
		$cols_after =~ s/\bid\b/1/;
	}
	elsif ($rel eq 'frt.face_index')
	{
		$cols = 'name, definition';
		$cols_after = "name, regexp_replace(replace(definition, 'frt._face_open(id, embedding)', 'embedding'), "
		  . "' WITH \\(sealed=''true''\\)|, sealed=''true''', '')";
	}
	push @digest_sql, "SELECT '$rel', count(*), md5(string_agg(r, E'\\n' ORDER BY r)) "
	  . "FROM (SELECT ROW($cols)::text AS r FROM $rel$where) t";
	push @digest_after_sql, "SELECT '$rel', count(*), md5(string_agg(r, E'\\n' ORDER BY r)) "
	  . "FROM (SELECT ROW($cols_after)::text AS r FROM $rel$where_after) t";
}
my $audit_upto = $node->safe_psql('postgres', 'SELECT max(seq) FROM frt.audit');
(my $digest_sql = join("\nUNION ALL\n", @digest_sql)) =~ s/:audit_upto/$audit_upto/g;
(my $digest_after_sql = join("\nUNION ALL\n", @digest_after_sql)) =~ s/:audit_upto/$audit_upto/g;

# The frt_ivf indexes (the core table's and the per-purpose one) and what
# frt.index_check finds in them.
my $ivf_clean = qr/^[^:,]+: clean(?:, [^:,]+: clean)+$/;
my $ivf_check_sql = q{SELECT string_agg(c.oid::regclass || ': ' || coalesce(p.problems, 'clean'), ', ' ORDER BY 1)
	FROM pg_class c JOIN pg_am a ON a.oid = c.relam AND a.amname = 'frt_ivf'
	LEFT JOIN LATERAL (SELECT string_agg(kind || ' ' || blkno || ' ' || detail, '; ') AS problems
					   FROM frt.index_check(c.oid)) p ON true};

# Probes: stored faces of the demo's identification purpose (station, camera
# hall-cam-3); 1:N identification as frt_matcher.
my @probes = split /\n/, $node->safe_psql('postgres', q{
	SELECT embedding::text FROM frt.face WHERE purpose = 'station' ORDER BY id LIMIT 4});
my $identify_sql = join(";\n", 'SET ROLE frt_matcher', map {
	"SELECT string_agg(subject || ' ' || round(similarity::numeric, 5), ', ') "
	  . "FROM frt.identify('station', '$_', 'hall-cam-3', 3)"
} @probes);
my $knn_sql = q{SET enable_seqscan = off; SET frt.exact = on;
	SELECT string_agg(r, ' ' ORDER BY k) FROM (
		SELECT k, (SELECT string_agg(id::text, ',') FROM (SELECT id FROM core_faces
				   ORDER BY e OPERATOR(frt.<->) (SELECT e FROM core_faces WHERE id = k * 7) LIMIT 10) s) AS r
		FROM generate_series(1, 20) k) t};
my $chain_sql = 'SELECT ok, reason FROM frt.verify_audit_chain()';

like($node->safe_psql('postgres', $ivf_check_sql), $ivf_clean,
	'old release: frt_ivf indexes clean');
my $identify_before = $node->safe_psql('postgres', $identify_sql);
like($identify_before, qr/^p\d+ [01]\.\d+(?:, .*)?(?:\np\d+ [01]\.\d+(?:, .*)?){3}$/,
	'old release: identification finds each probe');
my $knn_before = $node->safe_psql('postgres', $knn_sql);
my $digest_before = $node->safe_psql('postgres', $digest_sql);
like($node->safe_psql('postgres', $chain_sql), qr/^t\|/, 'old release: audit chain intact');

# After the update, a failing query is a failed test, not the end of the run.
sub query
{
	my ($db, $sql) = @_;
	my ($rc, $stdout, $stderr) = $node->psql($db, $sql, on_error_stop => 1);
	return $rc == 0 ? $stdout : "ERROR: $stderr";
}

# An application login of the old release: the update authorizes it for
# what its role allowed (application authorization), with a WARNING.
$node->safe_psql('postgres', 'CREATE ROLE legacy_app LOGIN IN ROLE frt_matcher');

# The upgrade: new binaries and scripts, then ALTER EXTENSION ... UPDATE.
$node->stop;
ok(build_install($tree), 'current tree built and installed over the old release');
$node->start;
for my $db ('postgres', 'bare')
{
	($rc, $out, $err) = $node->psql($db,
		'ALTER EXTENSION frt UPDATE; ALTER EXTENSION frt_governance UPDATE', on_error_stop => 1);
	is($rc, 0, "$db: ALTER EXTENSION frt, frt_governance UPDATE") or diag($err);
	like($err, qr/WARNING:  frt_governance: \d+ roles were granted .*\blegacy_app\b/,
		"$db: the update names the roles it authorized");
	like($err, qr/faces centrally without a recorded legal basis: door, station/,
		'the update names the purposes that must record a legal basis (Art. 8)') if $db eq 'postgres';
	is(query($db, q{SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname)
		FROM pg_extension WHERE extname LIKE 'frt%'}),
		"frt $current{frt}, frt_governance $current{frt_governance}", "$db: versions are the control files'");
}

# The catalog: updated == fresh install.
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION frt_governance CASCADE');
my $objects_sql = slurp_file("$tree/test/ext_objects.sql");
my %fresh = map { $_ => 1 } split /\n/, $node->safe_psql('fresh', $objects_sql);
my $user_index = join('|', map { quotemeta } @user_index) || '(?!)';
my $previous_report = '';
for my $db ('bare', 'postgres')
{
	my %updated = map { $_ => 1 } grep { !/^[^|]+\| index (?:$user_index) \|/ }
	  split /\n/, query($db, $objects_sql);
	my @missing = sort grep { !$updated{$_} } keys %fresh;
	my @extra = sort grep { !$fresh{$_} } keys %updated;
	my $report = join("\n",
		(map { '  only in a fresh install: ' . substr($_, 0, 400) } @missing[0 .. ($#missing < 40 ? $#missing : 39)]),
		(map { '  only after the update:   ' . substr($_, 0, 400) } @extra[0 .. ($#extra < 40 ? $#extra : 39)]));
	ok(!@missing && !@extra,
		"$db: the updated extensions' objects equal a fresh install's (" . scalar(keys %fresh) . ' facts)')
	  or diag("An upgrade script (sql/upgrade/<ext>--<old>--<new>.sql) is missing or incomplete: "
		  . scalar(@missing) . ' facts only in a fresh install, ' . scalar(@extra) . " only after the update\n"
		  . ($report eq $previous_report ? '  (the same as above)' : $report));
	$previous_report = $report;
}

# Every row kept (compared before anything writes again).
my %after = map { (split /\|/, $_, 2)[0] => $_ } split /\n/, query('postgres', $digest_after_sql);
my @changed = grep { ($after{ (split /\|/, $_, 2)[0] } // '') ne $_ } split /\n/, $digest_before;
is(join(', ', map { (split /\|/)[0] } @changed), '', 'every row of every table kept');
like(query('postgres', $chain_sql), qr/^t\|/, 'audit chain intact after the update');
like(query('postgres', $ivf_check_sql), $ivf_clean,
	'frt_ivf indexes of the old release clean');
is(query('postgres', $identify_sql), $identify_before, '1:N identification answers as before');
is(query('postgres', q{SELECT string_agg(check_name || ' ' || status, ', ' ORDER BY check_name)
	FROM frt.compliance_report()
	WHERE check_name IN ('notice_states_facts', 'notice_accessibility', 'central_storage_basis', 'minors_per_purpose')}),
	'central_storage_basis warning, minors_per_purpose info, notice_accessibility warning, notice_states_facts ok',
	'upgrade values: notices state the facts; stored faces without a storage basis and notices without accessibility reported');
is(query('postgres', $knn_sql), $knn_before, 'core k-NN through frt_ivf answers as before');

is(query('postgres', q{SELECT string_agg(DISTINCT array_to_string(operations, ' '), '; ')
		|| ', every purpose ' || (count(*) = (SELECT count(*) FROM frt.purpose))
		|| ', every device ' || ((SELECT count(*) FROM frt.device_login WHERE grantee = 'legacy_app')
								 = (SELECT count(*) FROM frt.device))
	FROM frt.app_grant WHERE grantee = 'legacy_app'}),
	'identify verify, every purpose true, every device true',
	'an application login keeps what its role allowed, on every purpose and device');

# The updated installation goes on: enrol into the old index, find it, chain continues.
unlike(query('postgres', qq{
	SET ROLE frt_enroller;
	SELECT frt.register_subject('after-upgrade', '1990-01-01');
	SELECT frt.give_consent('after-upgrade', 'station', 'self', 'written', p_central_storage => true);
	SELECT frt.enroll('after-upgrade', 'station', '$probes[0]', 'hall-cam-3')}),
	qr/^ERROR/, 'a subject registered, consenting and enrolled after the update');
like(query('postgres', "SET ROLE frt_matcher; SELECT string_agg(subject, ',' ORDER BY subject) "
	  . "FROM frt.identify('station', '$probes[0]', 'hall-cam-3', 2, 0.99)"),
	qr/\bafter-upgrade\b/, 'a face enrolled after the update is identified');
like(query('postgres', $ivf_check_sql), $ivf_clean,
	'frt_ivf indexes clean after new inserts');
like(query('postgres', $chain_sql), qr/^t\|/, 'audit chain intact with records of the new release');

$node->stop;
rmtree($work);
done_testing();
