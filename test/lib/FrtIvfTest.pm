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

# The top 10 of table faces for probes vec(base + k, dim), k = 1..n, as one
# string: ids (when $what is 'id') or distances (otherwise; rows at exactly
# equal distances may come in either order, so comparisons with an
# exhaustive scan use distances).  $gucs chooses the mode.
sub ivf_answers
{
	my ($node, $gucs, $op, $dim, $base, $n, $what) = @_;
	my $col = (defined $what && $what eq 'id') ? 'id::text' : 'd::text';
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET extra_float_digits = 3; $gucs
		SELECT string_agg(r, ' ' ORDER BY k) FROM (
			SELECT k, (SELECT string_agg($col, ',') FROM
						(SELECT id, e OPERATOR(frt.$op) vec($base + k, $dim) AS d FROM faces
						 ORDER BY e OPERATOR(frt.$op) vec($base + k, $dim) LIMIT 10) s) AS r
			FROM generate_series(1, $n) k) t});
}

1;
