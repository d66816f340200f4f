-- Shared by the ivf_* regression tests: deterministic pseudo-random vectors
-- of dimension d (clustered, so neighbours are close).
CREATE FUNCTION pg_temp.vec(i int, d int) RETURNS frt.face_embedding
LANGUAGE sql IMMUTABLE AS $$
	SELECT array_agg((sin((i % 37) * 1.7 + j * 0.9) + 0.35 * sin(i * 12.9898 + j * 78.233))::real
					 ORDER BY j)::real[]::frt.face_embedding
	FROM generate_series(1, d) j
$$;
