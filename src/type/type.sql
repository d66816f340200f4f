-- Layer 1: the face_embedding type and its casts.

-- The type, operators and index are for every role, as a built-in type
-- would be (CREATE EXTENSION made the schema; it is not a member of the
-- extension and stays, empty, after DROP EXTENSION).
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

CREATE TYPE @extschema@.face_embedding;

CREATE FUNCTION @extschema@.face_embedding_in(pg_catalog.cstring, pg_catalog.oid, pg_catalog.int4)
	RETURNS @extschema@.face_embedding AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_out(@extschema@.face_embedding)
	RETURNS pg_catalog.cstring AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_typmod_in(pg_catalog.cstring[])
	RETURNS pg_catalog.int4 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_typmod_out(pg_catalog.int4)
	RETURNS pg_catalog.cstring AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_recv(pg_catalog.internal, pg_catalog.oid, pg_catalog.int4)
	RETURNS @extschema@.face_embedding AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_send(@extschema@.face_embedding)
	RETURNS pg_catalog.bytea AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE = main: never moved out of line while the row fits a page, so a
-- 512-dimension value (2,056 bytes) stays in the heap row and scans need no
-- TOAST fetch; values too large for a page (e.g. 4096 dimensions) may still
-- go out of line rather than fail.
CREATE TYPE @extschema@.face_embedding (
	INPUT = @extschema@.face_embedding_in,
	OUTPUT = @extschema@.face_embedding_out,
	TYPMOD_IN = @extschema@.face_embedding_typmod_in,
	TYPMOD_OUT = @extschema@.face_embedding_typmod_out,
	RECEIVE = @extschema@.face_embedding_recv,
	SEND = @extschema@.face_embedding_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = main
);
COMMENT ON TYPE @extschema@.face_embedding IS 'face embedding: float4 vector, typmod = dimension (1..4096)';

-- Casts --------------------------------------------------------------------

CREATE FUNCTION @extschema@.face_embedding(@extschema@.face_embedding, pg_catalog.int4, pg_catalog.bool)
	RETURNS @extschema@.face_embedding AS 'MODULE_PATHNAME', 'face_embedding_coerce'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.array_to_face_embedding(pg_catalog.float4[], pg_catalog.int4, pg_catalog.bool)
	RETURNS @extschema@.face_embedding AS 'MODULE_PATHNAME', 'face_embedding_from_array'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.array_to_face_embedding(pg_catalog.float8[], pg_catalog.int4, pg_catalog.bool)
	RETURNS @extschema@.face_embedding AS 'MODULE_PATHNAME', 'face_embedding_from_array'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bytea_to_face_embedding(pg_catalog.bytea, pg_catalog.int4, pg_catalog.bool)
	RETURNS @extschema@.face_embedding AS 'MODULE_PATHNAME', 'face_embedding_from_bytea'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_to_float4(@extschema@.face_embedding, pg_catalog.int4, pg_catalog.bool)
	RETURNS pg_catalog.float4[] AS 'MODULE_PATHNAME', 'face_embedding_to_float4'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_to_float8(@extschema@.face_embedding, pg_catalog.int4, pg_catalog.bool)
	RETURNS pg_catalog.float8[] AS 'MODULE_PATHNAME', 'face_embedding_to_float8'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (@extschema@.face_embedding AS @extschema@.face_embedding)
	WITH FUNCTION @extschema@.face_embedding(@extschema@.face_embedding, pg_catalog.int4, pg_catalog.bool) AS IMPLICIT;
CREATE CAST (pg_catalog.float4[] AS @extschema@.face_embedding)
	WITH FUNCTION @extschema@.array_to_face_embedding(pg_catalog.float4[], pg_catalog.int4, pg_catalog.bool) AS ASSIGNMENT;
CREATE CAST (pg_catalog.float8[] AS @extschema@.face_embedding)
	WITH FUNCTION @extschema@.array_to_face_embedding(pg_catalog.float8[], pg_catalog.int4, pg_catalog.bool) AS ASSIGNMENT;
CREATE CAST (pg_catalog.bytea AS @extschema@.face_embedding)
	WITH FUNCTION @extschema@.bytea_to_face_embedding(pg_catalog.bytea, pg_catalog.int4, pg_catalog.bool);
CREATE CAST (@extschema@.face_embedding AS pg_catalog.float4[])
	WITH FUNCTION @extschema@.face_embedding_to_float4(@extschema@.face_embedding, pg_catalog.int4, pg_catalog.bool) AS ASSIGNMENT;
CREATE CAST (@extschema@.face_embedding AS pg_catalog.float8[])
	WITH FUNCTION @extschema@.face_embedding_to_float8(@extschema@.face_embedding, pg_catalog.int4, pg_catalog.bool) AS ASSIGNMENT;
