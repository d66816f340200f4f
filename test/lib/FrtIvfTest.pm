# Helpers shared by the frt_ivf TAP tests (test/t/03*_ivf_*.pl).
package FrtIvfTest;

use strict;
use warnings;
use Exporter 'import';

our @EXPORT = qw(ivf_setup_sql ivf_answers ivf_exhaustive);

# SQL that creates the extension and vec(i, d): a deterministic, clustered
# pseudo-random vector for row i.
sub ivf_setup_sql
{
	return q{
	CREATE EXTENSION frt;
	CREATE FUNCTION vec(i int, d int) RETURNS frt.face_embedding LANGUAGE sql IMMUTABLE AS $$
		SELECT array_agg((sin((i % 41) * 1.3 + j * 0.7) + 0.4 * sin(i * 12.9898 + j * 78.233))::real
						 ORDER BY j)::real[]::frt.face_embedding FROM generate_series(1, d) j $$;
	};
}

# GUCs that force an exhaustive scan (sequential scan and sort).
sub ivf_exhaustive
{
	return 'SET enable_indexscan = off; SET enable_seqscan = on;';
}

# The top 10 ids of table faces for probes vec(base + k, dim), k = 1..n, as
# one string; $gucs chooses the mode (the index is preferred by default).
sub ivf_answers
{
	my ($node, $gucs, $op, $dim, $base, $n) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; $gucs
		SELECT string_agg(r, ' ' ORDER BY k) FROM (
			SELECT k, (SELECT string_agg(id::text, ',') FROM
						(SELECT id FROM faces ORDER BY e OPERATOR(frt.$op) vec($base + k, $dim) LIMIT 10) s) AS r
			FROM generate_series(1, $n) k) t});
}

1;
