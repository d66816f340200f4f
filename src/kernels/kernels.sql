-- Layer 2: what the distance kernels are, and a self-check against the
-- scalar reference.

CREATE FUNCTION @extschema@.simd_info(OUT kernel pg_catalog.text, OUT in_use pg_catalog.bool)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'frt_simd_info'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.simd_info() IS 'kernel sets usable on this CPU and the one in use';

CREATE FUNCTION @extschema@.kernel_check(OUT kernel pg_catalog.text, OUT func pg_catalog.text,
	OUT n pg_catalog.int4, OUT value_case pg_catalog.text, OUT max_rel_err pg_catalog.float8)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'frt_kernel_check'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.kernel_check() IS 'compares every usable kernel with the scalar reference';
