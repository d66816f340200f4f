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
