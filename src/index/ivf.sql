-- Layer 4: the frt_ivf index access method and its operator classes.

CREATE FUNCTION @extschema@.frt_ivf_handler(pg_catalog.internal)
	RETURNS pg_catalog.index_am_handler AS 'MODULE_PATHNAME', 'frt_ivf_handler'
	LANGUAGE C STRICT;

CREATE ACCESS METHOD frt_ivf TYPE INDEX HANDLER @extschema@.frt_ivf_handler;
COMMENT ON ACCESS METHOD frt_ivf IS 'k-means lists of int8 face codes with a proven error bound; frt.exact = on gives exhaustive-search results';

-- The strategy number of each class's ORDER BY operator names its metric
-- (1 = L2, 2 = inner product, 3 = cosine); see include/frt_ivf.h.
CREATE OPERATOR CLASS @extschema@.face_l2_ops
	FOR TYPE @extschema@.face_embedding USING frt_ivf AS
	OPERATOR 1 @extschema@.<-> (@extschema@.face_embedding, @extschema@.face_embedding) FOR ORDER BY pg_catalog.float_ops;

CREATE OPERATOR CLASS @extschema@.face_ip_ops
	FOR TYPE @extschema@.face_embedding USING frt_ivf AS
	OPERATOR 2 @extschema@.<#> (@extschema@.face_embedding, @extschema@.face_embedding) FOR ORDER BY pg_catalog.float_ops;

CREATE OPERATOR CLASS @extschema@.face_cosine_ops
	DEFAULT FOR TYPE @extschema@.face_embedding USING frt_ivf AS
	OPERATOR 3 @extschema@.<=> (@extschema@.face_embedding, @extschema@.face_embedding) FOR ORDER BY pg_catalog.float_ops;

CREATE FUNCTION @extschema@.index_check(index pg_catalog.regclass,
	OUT kind pg_catalog.text, OUT blkno pg_catalog.int8, OUT detail pg_catalog.text)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'frt_ivf_index_check'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION @extschema@.index_check(pg_catalog.regclass) IS
	'problems found in an frt_ivf index (structure; live heap rows not indexed); no rows = healthy';
REVOKE EXECUTE ON FUNCTION @extschema@.index_check(pg_catalog.regclass) FROM PUBLIC;

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
