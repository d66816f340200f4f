-- Embeddings and distances: the BLOB and text forms, validation errors
-- (which never carry a value), NULL handling and distances checked against
-- values computed by hand.
.mode list
.nullvalue NULL

-- the forms: text -> BLOB -> text round-trips exactly
SELECT hex(frt_embedding('[1,2,3]'));
SELECT frt_embedding_text('[ 1.5 , -2.25,3e-2 ]');
SELECT frt_embedding_text(frt_embedding('[0.1,0.2,0.30000001]'));
SELECT frt_embedding_text(x'4652544501000200000080BF0000C03F');
SELECT frt_dims('[1,2,3,4,5]'), frt_dims(frt_embedding('[7]'));
SELECT frt_embedding(frt_embedding('[1,2]')) = frt_embedding('[1,2]');
SELECT typeof(frt_embedding('[1]')), length(frt_embedding('[1,2,3]'));

-- NULL in, NULL out
SELECT frt_embedding(NULL), frt_embedding_text(NULL), frt_dims(NULL);
SELECT frt_l2_distance(NULL, '[1]'), frt_cosine_distance('[1]', NULL), frt_ip_distance(NULL, NULL);

-- distances computed by hand
-- l2: |(3,4)| = 5
SELECT frt_l2_distance('[0,0]', '[3,4]');
-- ip: -(1*3 + 2*4) = -11
SELECT frt_ip_distance('[1,2]', '[3,4]');
-- cosine of orthogonal vectors: distance 1, similarity 0
SELECT frt_cosine_distance('[1,0]', '[0,5]'), frt_cosine_similarity('[1,0]', '[0,5]');
-- opposite vectors: distance 2, similarity -1
SELECT frt_cosine_distance('[1,1]', '[-2,-2]'), frt_cosine_similarity('[1,1]', '[-2,-2]');
-- (1,2,2) and (2,1,2): cos = 8/9
SELECT round(frt_cosine_similarity('[1,2,2]', '[2,1,2]'), 12), round(8.0 / 9, 12);
SELECT round(frt_cosine_distance('[1,2,2]', '[2,1,2]'), 12), round(1 - 8.0 / 9, 12);
-- l2 of (1,2,2) and (2,1,2): sqrt(2)
SELECT round(frt_l2_distance('[1,2,2]', '[2,1,2]'), 12), round(sqrt(2), 12);
-- text and BLOB arguments mix
SELECT frt_l2_distance(frt_embedding('[0,0]'), '[6,8]');
-- the zero vector has no cosine distance (NULL), but has l2 and ip ones
SELECT frt_cosine_distance('[0,0]', '[1,1]'), frt_l2_distance('[0,0]', '[1,1]') > 1.41, frt_ip_distance('[0,0]', '[1,1]');

-- validation errors: no value in any message
SELECT frt_embedding('[1,nan,3]');
SELECT frt_embedding('[1,2,inf]');
SELECT frt_embedding('[-Infinity]');
SELECT frt_embedding('[1e39]');
SELECT frt_embedding('[1e-50]');
SELECT frt_embedding('[]');
SELECT frt_embedding('');
SELECT frt_embedding('1,2,3');
SELECT frt_embedding('[1,2,3');
SELECT frt_embedding('[1,,3]');
SELECT frt_embedding('[1,2] 42');
SELECT frt_embedding('[12345abc]');
SELECT frt_embedding('[1' || char(0) || '2]');
SELECT frt_embedding(42);
SELECT frt_embedding(4.2);
SELECT frt_embedding('[' || replace(hex(zeroblob(4097)), '00', '1,') || '1]');
SELECT frt_embedding('[' || replace(hex(zeroblob(40000)), '00', '1.25,') || '1]');
-- BLOBs: truncated, overlong, bad magic, version, flags, dimension 0, NaN and Inf components
SELECT frt_embedding(x'46525445010002000000803F');
SELECT frt_embedding(x'46525445010001000000803F00');
SELECT frt_embedding(x'4652');
SELECT frt_embedding(x'58525445010001000000803F');
SELECT frt_embedding(x'46525445020001000000803F');
SELECT frt_embedding(x'46525445010101000000803F');
SELECT frt_embedding(x'4652544501000000');
SELECT frt_embedding(x'46525445010002000000803F0000C07F');
SELECT frt_embedding(x'4652544501000100000080FF');
SELECT frt_embedding(zeroblob(0));
-- distances: the failing argument is named; dimensions must agree
SELECT frt_l2_distance('[1,2]', '[1,x]');
SELECT frt_cosine_similarity(x'00', '[1]');
SELECT frt_ip_distance('[1,2,3]', '[1,2]');
SELECT frt_cosine_distance('[1]', frt_embedding('[1,2]'));
SELECT frt_embedding_text('[1,2');
SELECT frt_dims(x'4652544501000300000080BF');
