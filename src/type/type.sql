-- Layer 1 and 3: the face_embedding type, its casts, operators and functions.

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

-- Distance functions and operators ----------------------------------------

CREATE FUNCTION @extschema@.l2_distance(@extschema@.face_embedding, @extschema@.face_embedding)
	RETURNS pg_catalog.float8 AS 'MODULE_PATHNAME', 'face_embedding_l2_distance'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.inner_product(@extschema@.face_embedding, @extschema@.face_embedding)
	RETURNS pg_catalog.float8 AS 'MODULE_PATHNAME', 'face_embedding_inner_product'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.negative_inner_product(@extschema@.face_embedding, @extschema@.face_embedding)
	RETURNS pg_catalog.float8 AS 'MODULE_PATHNAME', 'face_embedding_negative_inner_product'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cosine_distance(@extschema@.face_embedding, @extschema@.face_embedding)
	RETURNS pg_catalog.float8 AS 'MODULE_PATHNAME', 'face_embedding_cosine_distance'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cosine_similarity(@extschema@.face_embedding, @extschema@.face_embedding)
	RETURNS pg_catalog.float8 AS 'MODULE_PATHNAME', 'face_embedding_cosine_similarity'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.dims(@extschema@.face_embedding)
	RETURNS pg_catalog.int4 AS 'MODULE_PATHNAME', 'face_embedding_dims'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.norm(@extschema@.face_embedding)
	RETURNS pg_catalog.float8 AS 'MODULE_PATHNAME', 'face_embedding_norm'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.l2_normalize(@extschema@.face_embedding)
	RETURNS @extschema@.face_embedding AS 'MODULE_PATHNAME', 'face_embedding_l2_normalize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR @extschema@.<-> (
	LEFTARG = @extschema@.face_embedding, RIGHTARG = @extschema@.face_embedding,
	FUNCTION = @extschema@.l2_distance, COMMUTATOR = OPERATOR(@extschema@.<->)
);
CREATE OPERATOR @extschema@.<#> (
	LEFTARG = @extschema@.face_embedding, RIGHTARG = @extschema@.face_embedding,
	FUNCTION = @extschema@.negative_inner_product, COMMUTATOR = OPERATOR(@extschema@.<#>)
);
CREATE OPERATOR @extschema@.<=> (
	LEFTARG = @extschema@.face_embedding, RIGHTARG = @extschema@.face_embedding,
	FUNCTION = @extschema@.cosine_distance, COMMUTATOR = OPERATOR(@extschema@.<=>)
);

-- avg aggregate: an identity's template from several samples ---------------

CREATE FUNCTION @extschema@.face_embedding_avg_accum(pg_catalog.float8[], @extschema@.face_embedding)
	RETURNS pg_catalog.float8[] AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_avg_combine(pg_catalog.float8[], pg_catalog.float8[])
	RETURNS pg_catalog.float8[] AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_avg_final(pg_catalog.float8[])
	RETURNS @extschema@.face_embedding AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.avg(@extschema@.face_embedding) (
	SFUNC = @extschema@.face_embedding_avg_accum,
	STYPE = pg_catalog.float8[],
	FINALFUNC = @extschema@.face_embedding_avg_final,
	COMBINEFUNC = @extschema@.face_embedding_avg_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

-- Equality (for tests, DISTINCT checks and application comparisons).
CREATE FUNCTION @extschema@.face_embedding_eq(@extschema@.face_embedding, @extschema@.face_embedding)
	RETURNS pg_catalog.bool AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.face_embedding_ne(@extschema@.face_embedding, @extschema@.face_embedding)
	RETURNS pg_catalog.bool LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN NOT @extschema@.face_embedding_eq($1, $2);
CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.face_embedding, RIGHTARG = @extschema@.face_embedding,
	FUNCTION = @extschema@.face_embedding_eq, COMMUTATOR = OPERATOR(@extschema@.=),
	NEGATOR = OPERATOR(@extschema@.<>), RESTRICT = eqsel, JOIN = eqjoinsel
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.face_embedding, RIGHTARG = @extschema@.face_embedding,
	FUNCTION = @extschema@.face_embedding_ne, COMMUTATOR = OPERATOR(@extschema@.<>),
	NEGATOR = OPERATOR(@extschema@.=), RESTRICT = neqsel, JOIN = neqjoinsel
);
