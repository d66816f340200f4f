/*-------------------------------------------------------------------------
 *
 * frt_embedding.h
 *	  The face_embedding type: on-disk layout and accessors.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_EMBEDDING_H
#define FRT_EMBEDDING_H

#include "frt.h"
#include "fmgr.h"

/*
 * A face embedding: a varlena of float4 components.  'flags' is reserved for
 * the at-rest encryption layer and is zero in plain values.
 */
typedef struct FaceEmbedding
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of components */
	uint16		flags;			/* reserved, must be zero for now */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} FaceEmbedding;

#define FRT_EMBEDDING_SIZE(dim)		(offsetof(FaceEmbedding, x) + sizeof(float) * (dim))
#define DatumGetFaceEmbedding(d)	((FaceEmbedding *) PG_DETOAST_DATUM(d))
#define PG_GETARG_FACE_EMBEDDING_P(n)	DatumGetFaceEmbedding(PG_GETARG_DATUM(n))
#define PG_RETURN_FACE_EMBEDDING_P(p)	PG_RETURN_POINTER(p)

extern FaceEmbedding *FrtEmbeddingAlloc(int dim);
extern void FrtCheckDim(int dim);
extern void FrtCheckTypmod(int typmod, int dim);
extern void FrtCheckSameDim(const FaceEmbedding *a, const FaceEmbedding *b);
extern void FrtCheckElement(float v);

#endif							/* FRT_EMBEDDING_H */
