-- Layer 4: the frt_ivf index access method and its operator classes.

CREATE FUNCTION @extschema@.frt_ivf_handler(pg_catalog.internal)
	RETURNS pg_catalog.index_am_handler AS 'MODULE_PATHNAME', 'frt_ivf_handler'
	LANGUAGE C STRICT;

CREATE ACCESS METHOD frt_ivf TYPE INDEX HANDLER @extschema@.frt_ivf_handler;
COMMENT ON ACCESS METHOD frt_ivf IS 'k-means lists of int8 face codes with a proven error bound; frt.exact = on gives exhaustive-search results';

-- Distance thresholds as index conditions ---------------------------------
-- frt.face_within(p, t, inclusive) means "distance to p below t" (<= t when
-- inclusive); e <<=> w is (e <=> p) < t computed exactly as that clause
-- (likewise <<-> for <->, <<#> for <#>).  A planner hook writes
-- "e <=> p < t" in this form when e has a matching frt_ivf index
-- (src/index/ivfplanner.c, ivfwithin.c).
CREATE TYPE @extschema@.face_within;
CREATE FUNCTION @extschema@.face_within_in(pg_catalog.cstring)
	RETURNS @extschema@.face_within AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_within_out(@extschema@.face_within)
	RETURNS pg_catalog.cstring AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.face_within (
	INPUT = @extschema@.face_within_in,
	OUTPUT = @extschema@.face_within_out,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE @extschema@.face_within IS 'a distance threshold around a probe, "[x1,...] < t": the right operand of <<->, <<#>, <<=>';

CREATE FUNCTION @extschema@.face_within(probe @extschema@.face_embedding, threshold pg_catalog.float8,
	inclusive pg_catalog.bool DEFAULT false)
	RETURNS @extschema@.face_within AS 'MODULE_PATHNAME', 'face_within_make'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.face_within(@extschema@.face_embedding, pg_catalog.float8, pg_catalog.bool) IS
	'distance threshold around a probe: e <<=> frt.face_within(p, t) is e <=> p < t (<= t when inclusive)';

CREATE FUNCTION @extschema@.face_within_sel(pg_catalog.internal, pg_catalog.oid, pg_catalog.internal, pg_catalog.int4)
	RETURNS pg_catalog.float8 AS 'MODULE_PATHNAME', 'frt_within_sel'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_within(@extschema@.face_embedding, @extschema@.face_within)
	RETURNS pg_catalog.bool AS 'MODULE_PATHNAME', 'face_within_l2'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.negative_inner_product_within(@extschema@.face_embedding, @extschema@.face_within)
	RETURNS pg_catalog.bool AS 'MODULE_PATHNAME', 'face_within_ip'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cosine_within(@extschema@.face_embedding, @extschema@.face_within)
	RETURNS pg_catalog.bool AS 'MODULE_PATHNAME', 'face_within_cosine'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR @extschema@.<<-> (
	LEFTARG = @extschema@.face_embedding, RIGHTARG = @extschema@.face_within,
	FUNCTION = @extschema@.l2_within, RESTRICT = @extschema@.face_within_sel
);
CREATE OPERATOR @extschema@.<<#> (
	LEFTARG = @extschema@.face_embedding, RIGHTARG = @extschema@.face_within,
	FUNCTION = @extschema@.negative_inner_product_within, RESTRICT = @extschema@.face_within_sel
);
CREATE OPERATOR @extschema@.<<=> (
	LEFTARG = @extschema@.face_embedding, RIGHTARG = @extschema@.face_within,
	FUNCTION = @extschema@.cosine_within, RESTRICT = @extschema@.face_within_sel
);

-- The strategy number of each class's ORDER BY operator names its metric
-- (1 = L2, 2 = inner product, 3 = cosine); its threshold search operator
-- has the metric + 3 (include/frt_ivf.h).
CREATE OPERATOR CLASS @extschema@.face_l2_ops
	FOR TYPE @extschema@.face_embedding USING frt_ivf AS
	OPERATOR 1 @extschema@.<-> (@extschema@.face_embedding, @extschema@.face_embedding) FOR ORDER BY pg_catalog.float_ops,
	OPERATOR 4 @extschema@.<<-> (@extschema@.face_embedding, @extschema@.face_within);

CREATE OPERATOR CLASS @extschema@.face_ip_ops
	FOR TYPE @extschema@.face_embedding USING frt_ivf AS
	OPERATOR 2 @extschema@.<#> (@extschema@.face_embedding, @extschema@.face_embedding) FOR ORDER BY pg_catalog.float_ops,
	OPERATOR 5 @extschema@.<<#> (@extschema@.face_embedding, @extschema@.face_within);

CREATE OPERATOR CLASS @extschema@.face_cosine_ops
	DEFAULT FOR TYPE @extschema@.face_embedding USING frt_ivf AS
	OPERATOR 3 @extschema@.<=> (@extschema@.face_embedding, @extschema@.face_embedding) FOR ORDER BY pg_catalog.float_ops,
	OPERATOR 6 @extschema@.<<=> (@extschema@.face_embedding, @extschema@.face_within);

CREATE FUNCTION @extschema@.index_check(index pg_catalog.regclass,
	OUT kind pg_catalog.text, OUT blkno pg_catalog.int8, OUT detail pg_catalog.text)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'frt_ivf_index_check'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION @extschema@.index_check(pg_catalog.regclass) IS
	'problems found in an frt_ivf index (structure; live heap rows not indexed); no rows = healthy';
REVOKE EXECUTE ON FUNCTION @extschema@.index_check(pg_catalog.regclass) FROM PUBLIC;

-- Sealed indexes (docs/index.md, "Sealed indexes"): codes and centroids are
-- ciphertext under the key provider's epochs.  Key rotation re-seals them.
CREATE FUNCTION @extschema@.ivf_reseal(index pg_catalog.regclass, max_items pg_catalog.int8 DEFAULT NULL)
	RETURNS pg_catalog.int8 AS 'MODULE_PATHNAME', 'frt_ivf_reseal'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.ivf_reseal(pg_catalog.regclass, pg_catalog.int8) IS
	're-seal under the current key epoch the items and centroids of a sealed frt_ivf index that are under an older one, at most max_items; returns how many';
REVOKE EXECUTE ON FUNCTION @extschema@.ivf_reseal(pg_catalog.regclass, pg_catalog.int8) FROM PUBLIC;

CREATE FUNCTION @extschema@.ivf_epochs(index pg_catalog.regclass)
	RETURNS TABLE (epoch pg_catalog.int8, items pg_catalog.int8) AS 'MODULE_PATHNAME', 'frt_ivf_epochs'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION @extschema@.ivf_epochs(pg_catalog.regclass) IS
	'how many live items and centroids of a sealed frt_ivf index are sealed under each key epoch';
REVOKE EXECUTE ON FUNCTION @extschema@.ivf_epochs(pg_catalog.regclass) FROM PUBLIC;

-- VACUUM progress of frt_ivf indexes.  PostgreSQL 15's pg_stat_progress_vacuum
-- has no per-index fields and a backend reports one command at a time, so
-- while VACUUM erases an frt_ivf index it publishes the index and blocks
-- done / total in three parameter slots VACUUM leaves unused (see
-- src/index/ivfvacuum.c).  frt_ivf is never vacuumed by a parallel worker
-- (which could not report in PostgreSQL 15).
CREATE VIEW @extschema@.ivf_vacuum_progress AS
	SELECT v.pid, v.datid, v.datname, v.relid, v.phase,
		   p.param18::pg_catalog.oid AS indexrelid,
		   p.param19 AS blocks_done, p.param20 AS blocks_total
	  FROM pg_catalog.pg_stat_get_progress_info('VACUUM') p
	  JOIN pg_catalog.pg_stat_progress_vacuum v ON v.pid = p.pid
	 WHERE p.param18 <> 0;
COMMENT ON VIEW @extschema@.ivf_vacuum_progress IS
	'blocks done / total of the frt_ivf index each VACUUM is erasing (PostgreSQL 15 has no per-index progress fields)';
GRANT SELECT ON @extschema@.ivf_vacuum_progress TO PUBLIC;
