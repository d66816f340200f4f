# frt_ivf physical erasure: after DELETE + VACUUM + CHECKPOINT the bytes of
# a deleted row (its int8 code, and of course its float values) appear
# nowhere in the index's relation files, on the primary and (after a
# restartpoint) on a streaming standby.  The pattern is first shown to be
# present, so the test can fail.  The first erasure is the pages' first
# change after a checkpoint (logged as a full-page image); the second row
# is inserted after that checkpoint, so its erasure is logged as a delta.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ivf_erase');
$node->init(allows_streaming => 1);
$node->start;
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('ivf_erase_standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;

# a distinctive vector: k_i in [-127, 127] with one k_i = 127, x_i = k_i / 100;
# its int8 code is exactly k (the per-row scale is max|x| / 127 = 0.01)
my $dim = 64;
my @k = (127, map { (($_ * 37 + 11) % 255) - 127 } 1 .. $dim - 1);
my $vec = '[' . join(',', map { $_ / 100 } @k) . ']';
my $code = pack('c*', @k);
my $floats = pack('f<*', map { $_ / 100 } @k[0 .. 15]);

$node->safe_psql('postgres', qq{
	CREATE EXTENSION frt;
	CREATE EXTENSION pageinspect;
	CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding($dim));
	INSERT INTO faces SELECT i, (SELECT array_agg((sin(i * 0.37 + j) * 0.9)::real ORDER BY j)
								 FROM generate_series(1, $dim) j)::frt.face_embedding
	FROM generate_series(1, 400) i;
	INSERT INTO faces VALUES (100000, '$vec');
	INSERT INTO faces SELECT i, (SELECT array_agg((cos(i * 0.21 + j) * 0.8)::real ORDER BY j)
								 FROM generate_series(1, $dim) j)::frt.face_embedding
	FROM generate_series(401, 800) i;
	CREATE INDEX faces_cos ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 3);
	CREATE INDEX faces_l2 ON faces USING frt_ivf (e frt.face_l2_ops);
	CHECKPOINT;
});

# all files of a relation (main fork segments and other forks) on a node
sub relation_bytes
{
	my ($rel, $n) = @_;
	$n //= $node;
	my $path = $n->safe_psql('postgres', "SELECT pg_relation_filepath('$rel')");
	my $all = '';
	for my $f (glob($n->data_dir . "/$path*"))
	{
		$all .= slurp_file($f);
	}
	return $all;
}

ok(index(relation_bytes('faces'), $floats) >= 0, 'float pattern is in the heap (pattern is right)');
for my $ix ('faces_cos', 'faces_l2')
{
	ok(index(relation_bytes($ix), $code) >= 0, "$ix holds the row's code before the delete");
}

$node->safe_psql('postgres', q{
	DELETE FROM faces WHERE id = 100000;
	VACUUM faces;
	CHECKPOINT;
});
# the standby has replayed everything and written its pages (restartpoint)
sub standby_flushed
{
	$node->wait_for_catchup($standby);
	$standby->safe_psql('postgres', 'CHECKPOINT');
}
standby_flushed();
for my $ix ('faces_cos', 'faces_l2')
{
	for my $n ($node, $standby)
	{
		my $bytes = relation_bytes($ix, $n);
		is(index($bytes, $code), -1, $n->name . ": $ix: the deleted row's code is gone from the files");
		is(index($bytes, $floats), -1, $n->name . ": $ix: its float values are not there either");
		is($n->safe_psql('postgres', "SELECT count(*) FROM frt.index_check('$ix')"), '0',
			$n->name . ": $ix passes index_check after the erasure");
	}
}

# a second row inserted after that checkpoint: its page's next change (the
# erasure) is logged as a delta, not a full-page image
my @k2 = (-127, map { (($_ * 53 + 7) % 255) - 127 } 1 .. $dim - 1);
my $vec2 = '[' . join(',', map { $_ / 100 } @k2) . ']';
my $code2 = pack('c*', @k2);
$node->safe_psql('postgres', "INSERT INTO faces VALUES (100001, '$vec2')");
$node->wait_for_catchup($standby);

# the pages as the buffer manager holds them (no checkpoint may come between
# the insert and the erasure, so the files are not yet current)
sub buffer_bytes
{
	my ($rel, $n) = @_;
	my $hex = $n->safe_psql('postgres', qq{
		SELECT string_agg(encode(get_raw_page('$rel', b::int), 'hex'), '' ORDER BY b)
		  FROM generate_series(0, pg_relation_size('$rel') / 8192 - 1) b});
	return pack('H*', $hex);
}
for my $ix ('faces_cos', 'faces_l2')
{
	ok(index(buffer_bytes($ix, $standby), $code2) >= 0, "standby: $ix holds the second row's code");
}
$node->safe_psql('postgres', q{
	DELETE FROM faces WHERE id = 100001;
	VACUUM faces;
});
$node->safe_psql('postgres', 'CHECKPOINT');
standby_flushed();
for my $ix ('faces_cos', 'faces_l2')
{
	for my $n ($node, $standby)
	{
		is(index(relation_bytes($ix, $n), $code2), -1,
			$n->name . ": $ix: the second row's code is gone (delta record)");
		is(index(buffer_bytes($ix, $n), $code2), -1,
			$n->name . ": $ix: and from the buffered pages");
	}
}

# the space is reused: inserting again does not grow the index
my $size = $node->safe_psql('postgres', q{SELECT pg_relation_size('faces_l2')});
$node->safe_psql('postgres', q{
	DELETE FROM faces WHERE id <= 300; VACUUM faces;
	INSERT INTO faces SELECT i, (SELECT array_agg((sin(i * 0.11 + j) * 0.7)::real ORDER BY j)
								 FROM generate_series(1, 64) j)::frt.face_embedding
	FROM generate_series(2001, 2290) i;});
is($node->safe_psql('postgres', q{SELECT pg_relation_size('faces_l2')}), $size,
	'freed space is reused by later inserts');
$node->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SELECT pg_relation_size('faces_l2')}), $size,
	'the standby has the same index size');
$standby->stop;
$node->stop;
done_testing();
