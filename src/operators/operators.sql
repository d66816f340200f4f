-- Layer 3: distance functions and operators, vector functions, the avg
-- aggregate and equality, computed with the kernels of layer 2.

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
