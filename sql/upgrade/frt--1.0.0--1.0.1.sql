-- frt 1.0.0 -> 1.0.1
\echo Use "ALTER EXTENSION frt UPDATE TO '1.0.1'" to load this file. \quit

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
