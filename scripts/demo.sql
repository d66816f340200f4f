-- frt demo: a gallery of generated faces and a nearest-face query.
\pset footer off
\echo '== frt demo'
CREATE EXTENSION IF NOT EXISTS frt;
SET search_path = public, frt;
SELECT kernel AS simd_kernel_in_use FROM frt.simd_info() WHERE in_use;

-- 5,000 identities, each a unit vector near a low-rank "face space".
DROP TABLE IF EXISTS gallery;
CREATE TABLE gallery (person_id int PRIMARY KEY, e face_embedding(512));
INSERT INTO gallery
SELECT p, l2_normalize(array_agg(sin(p * 0.37 + i * 0.11) + cos(i * (p % 17 + 1) * 0.013)
                                  + (random() - 0.5) * 0.8 ORDER BY i)::real[]::face_embedding)
  FROM generate_series(1, 5000) p, generate_series(1, 512) i
 GROUP BY p;
ANALYZE gallery;

-- A probe: a fresh, noisy capture of person 4242.
\echo '== who is this? (nearest faces to a noisy capture of person 4242)'
SELECT person_id, round(cosine_similarity(e, probe)::numeric, 3) AS similarity
  FROM gallery,
       (SELECT l2_normalize((SELECT array_agg(x + (random() - 0.5) * 0.05)::real[]
                             FROM unnest(e::real[]) x)::face_embedding) AS probe
          FROM gallery WHERE person_id = 4242) p
 ORDER BY e <=> probe
 LIMIT 3;
