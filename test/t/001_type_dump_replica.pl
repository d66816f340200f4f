# face_embedding values survive pg_dump/restore (text and custom format) and
# stream unchanged to a replica; bad input on the primary changes nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->backup('b1');
my $replica = PostgreSQL::Test::Cluster->new('replica');
$replica->init_from_backup($primary, 'b1', has_streaming => 1);
$replica->start;

$primary->safe_psql('postgres', q{
	CREATE EXTENSION frt;
	CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding(512));
	INSERT INTO faces
	SELECT g, (SELECT array_agg(((random() * 2 - 1) * 10 ^ (i % 9 - 4))::real)
	           FROM generate_series(1, 512) i WHERE g > 0)
	FROM generate_series(1, 300) g;
	INSERT INTO faces VALUES (301, array_fill(-0.0::real, ARRAY[512]));
});
my $digest_sql = q{SELECT md5(string_agg(id || ':' || e::text, ';' ORDER BY id)) FROM faces};
my $digest = $primary->safe_psql('postgres', $digest_sql);

# bad input changes nothing
my ($rc, $out, $err) = $primary->psql('postgres',
	q{INSERT INTO faces SELECT 999, array_fill('NaN'::real, ARRAY[512])});
isnt($rc, 0, 'NaN embedding is rejected');
like($err, qr/NaN not allowed in face_embedding/, 'with a clear message');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM faces'), '301', 'nothing inserted');

# replica
$primary->wait_for_catchup($replica);
is($replica->safe_psql('postgres', $digest_sql), $digest, 'replica has identical embeddings');
is($replica->safe_psql('postgres',
	q{SELECT id FROM faces ORDER BY e OPERATOR(frt.<=>) (SELECT e FROM faces WHERE id = 7) LIMIT 1}),
	'7', 'replica answers a nearest-face query');

# pg_dump / restore, plain and custom formats
my $tmp = PostgreSQL::Test::Utils::tempdir;
for my $fmt ('p', 'c')
{
	my $db = "restore_$fmt";
	$primary->run_log([ 'pg_dump', '-F', $fmt, '-f', "$tmp/dump.$fmt",
		'-d', $primary->connstr('postgres') ]);
	$primary->safe_psql('postgres', "CREATE DATABASE $db");
	if ($fmt eq 'p')
	{
		$primary->run_log([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
			'-f', "$tmp/dump.p", '-d', $primary->connstr($db) ]);
	}
	else
	{
		$primary->run_log([ 'pg_restore', '-d', $primary->connstr($db), "$tmp/dump.c" ]);
	}
	is($primary->safe_psql($db, $digest_sql), $digest, "pg_dump -F $fmt round-trips embeddings");
}

# binary COPY round trip
$primary->safe_psql('postgres', qq{
	COPY faces TO '$tmp/faces.bin' WITH (FORMAT binary);
	CREATE TABLE faces2 (LIKE faces);
	COPY faces2 FROM '$tmp/faces.bin' WITH (FORMAT binary);
});
is($primary->safe_psql('postgres', $digest_sql =~ s/faces/faces2/r), $digest,
	'binary COPY round-trips embeddings');

done_testing();
