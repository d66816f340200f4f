-- Kernels: every dispatched kernel agrees with the scalar reference.
SELECT count(*) >= 1 AS has_scalar FROM frt.simd_info() WHERE kernel = 'scalar';
SELECT count(*) AS kernels_in_use FROM frt.simd_info() WHERE in_use;
-- the best usable kernel is the one in use
SELECT kernel = (SELECT kernel FROM frt.simd_info() ORDER BY
                   array_position(ARRAY['scalar','sse4','neon','avx2','avx512'], kernel) DESC LIMIT 1)
       AS best_in_use
  FROM frt.simd_info() WHERE in_use;
-- sizes 1, 3, 7, 17, 512, 4096; ordinary, tiny, huge and negative-zero values
SELECT count(DISTINCT n) AS sizes, count(DISTINCT value_case) AS cases,
       count(DISTINCT func) AS funcs FROM frt.kernel_check();
SELECT kernel, func, n, value_case, max_rel_err FROM frt.kernel_check()
 WHERE NOT (max_rel_err <= 1e-5) ORDER BY 1, 2, 3, 4;
