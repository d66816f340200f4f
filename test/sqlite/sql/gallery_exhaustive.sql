-- Exact mode equals the exhaustive scan on 3,000 random rows of small
-- integer components (so many exact ties) with duplicated rows, for each
-- metric, k in {1, 10, 100}, with a purpose and with a threshold: the
-- symmetric difference of (probe, rank, rowid, distance) must be empty.
.mode list
.nullvalue NULL

CREATE TABLE src(id INTEGER PRIMARY KEY, purpose TEXT, e TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2700)
INSERT INTO src
SELECT i, CASE WHEN i % 3 = 0 THEN 'pay' ELSE 'door' END,
       '[' || (abs(random()) % 5 - 2) || ',' || (abs(random()) % 5 - 2) || ',' ||
       (abs(random()) % 5 - 2) || ',' || (abs(random()) % 5 - 2) || ',' ||
       (abs(random()) % 5 - 2) || ',' || (abs(random()) % 5 - 2) || ',' ||
       (abs(random()) % 5 - 2) || ',' || ((i % 4) + 1) || ']'
FROM n;
-- 300 duplicates of existing rows
INSERT INTO src SELECT id + 2700, purpose, e FROM src WHERE id <= 300;
CREATE TABLE probes(pid INTEGER PRIMARY KEY, e TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
INSERT INTO probes
SELECT i, '[' || (abs(random()) % 5 - 2) || ',' || (abs(random()) % 5 - 2) || ',' ||
       (abs(random()) % 5 - 2) || ',' || (abs(random()) % 5 - 2) || ',' ||
       (abs(random()) % 5 - 2) || ',' || (abs(random()) % 5 - 2) || ',' ||
       (abs(random()) % 5 - 2) || ',1]'
FROM n;
INSERT INTO probes SELECT 20 + id, e FROM src WHERE id IN (7, 2707);

CREATE VIRTUAL TABLE gc USING frt_gallery(dim=8, metric=cosine);
CREATE VIRTUAL TABLE gl USING frt_gallery(dim=8, metric=l2);
CREATE VIRTUAL TABLE gi USING frt_gallery(dim=8, metric=ip);
INSERT INTO gc(rowid, subject, purpose, embedding) SELECT id, 's' || id, purpose, e FROM src;
INSERT INTO gl(rowid, subject, purpose, embedding) SELECT id, 's' || id, purpose, e FROM src;
INSERT INTO gi(rowid, subject, purpose, embedding) SELECT id, 's' || id, purpose, e FROM src;
-- delete some, then enrol again into the freed slots
DELETE FROM gc WHERE rowid % 11 = 5; DELETE FROM gl WHERE rowid % 11 = 5; DELETE FROM gi WHERE rowid % 11 = 5;
DELETE FROM src WHERE id % 11 = 5;
INSERT INTO src SELECT id + 5000, purpose, e FROM src WHERE id <= 200;
INSERT INTO gc(rowid, subject, purpose, embedding) SELECT id, 's' || id, purpose, e FROM src WHERE id > 5000;
INSERT INTO gl(rowid, subject, purpose, embedding) SELECT id, 's' || id, purpose, e FROM src WHERE id > 5000;
INSERT INTO gi(rowid, subject, purpose, embedding) SELECT id, 's' || id, purpose, e FROM src WHERE id > 5000;
SELECT (SELECT count(*) FROM gc), (SELECT count(*) FROM gl), (SELECT count(*) FROM gi), (SELECT count(*) FROM src);
SELECT count(*) FROM gc_free;

-- the exhaustive answers: rank, rowid and distance per probe
CREATE TABLE ex AS
SELECT 'cosine' AS m, 'all' AS f, p.pid, s.id, frt_cosine_distance(s.e, p.e) AS d FROM probes p, src s
UNION ALL SELECT 'l2', 'all', p.pid, s.id, frt_l2_distance(s.e, p.e) FROM probes p, src s
UNION ALL SELECT 'ip', 'all', p.pid, s.id, frt_ip_distance(s.e, p.e) FROM probes p, src s
UNION ALL SELECT 'cosine', 'pay', p.pid, s.id, frt_cosine_distance(s.e, p.e) FROM probes p, src s WHERE s.purpose = 'pay'
UNION ALL SELECT 'l2', 'pay', p.pid, s.id, frt_l2_distance(s.e, p.e) FROM probes p, src s WHERE s.purpose = 'pay'
UNION ALL SELECT 'ip', 'pay', p.pid, s.id, frt_ip_distance(s.e, p.e) FROM probes p, src s WHERE s.purpose = 'pay';
CREATE TABLE exr AS SELECT m, f, pid, id, d, row_number() OVER (PARTITION BY m, f, pid ORDER BY d, id) AS rn FROM ex;
CREATE TABLE ks(k INTEGER);
INSERT INTO ks VALUES (1), (10), (100);

-- the gallery's answers in exact mode
CREATE TABLE got AS
SELECT 'cosine' AS m, 'all' AS f, ks.k, p.pid, g.rowid AS id, g.distance AS d FROM ks, probes p, gc g WHERE g.embedding MATCH p.e AND g.k = ks.k AND g.mode = 'exact'
UNION ALL SELECT 'l2', 'all', ks.k, p.pid, g.rowid, g.distance FROM ks, probes p, gl g WHERE g.embedding MATCH p.e AND g.k = ks.k AND g.mode = 'exact'
UNION ALL SELECT 'ip', 'all', ks.k, p.pid, g.rowid, g.distance FROM ks, probes p, gi g WHERE g.embedding MATCH p.e AND g.k = ks.k AND g.mode = 'exact'
UNION ALL SELECT 'cosine', 'pay', ks.k, p.pid, g.rowid, g.distance FROM ks, probes p, gc g WHERE g.embedding MATCH p.e AND g.k = ks.k AND g.mode = 'exact' AND g.purpose = 'pay'
UNION ALL SELECT 'l2', 'pay', ks.k, p.pid, g.rowid, g.distance FROM ks, probes p, gl g WHERE g.embedding MATCH p.e AND g.k = ks.k AND g.mode = 'exact' AND g.purpose = 'pay'
UNION ALL SELECT 'ip', 'pay', ks.k, p.pid, g.rowid, g.distance FROM ks, probes p, gi g WHERE g.embedding MATCH p.e AND g.k = ks.k AND g.mode = 'exact' AND g.purpose = 'pay';
CREATE TABLE gotr AS SELECT m, f, k, pid, id, d, row_number() OVER (PARTITION BY m, f, k, pid ORDER BY d, id) AS rn FROM got;
-- the gallery returns rows already in (distance, rowid) order
SELECT count(*) AS rows_compared FROM gotr;
SELECT 'differences', count(*) FROM (
  SELECT m, f, k, pid, rn, id, d FROM gotr
  EXCEPT SELECT e.m, e.f, ks.k, e.pid, e.rn, e.id, e.d FROM exr e, ks WHERE e.rn <= ks.k
  UNION ALL
  SELECT e.m, e.f, ks.k, e.pid, e.rn, e.id, e.d FROM exr e, ks WHERE e.rn <= ks.k
  EXCEPT SELECT m, f, k, pid, rn, id, d FROM gotr);
-- ties: probes whose k-th and (k+1)-th exhaustive distances are equal
SELECT 'ties at the k-th row', count(*) > 10 FROM exr a JOIN exr b ON a.m = b.m AND a.f = b.f AND a.pid = b.pid AND b.rn = a.rn + 1
 WHERE a.rn IN (1, 10, 100) AND a.d = b.d;

-- thresholds: max_distance at the 5th exhaustive distance, ties included
CREATE TABLE thr AS
SELECT 'cosine' AS m, p.pid, (SELECT d FROM exr WHERE m = 'cosine' AND f = 'all' AND pid = p.pid AND rn = 5) AS t FROM probes p
UNION ALL SELECT 'l2', p.pid, (SELECT d FROM exr WHERE m = 'l2' AND f = 'all' AND pid = p.pid AND rn = 5) FROM probes p
UNION ALL SELECT 'ip', p.pid, (SELECT d FROM exr WHERE m = 'ip' AND f = 'all' AND pid = p.pid AND rn = 5) FROM probes p;
CREATE TABLE gotd AS
SELECT 'cosine' AS m, p.pid, g.rowid AS id, g.distance AS d FROM probes p JOIN thr t ON t.m = 'cosine' AND t.pid = p.pid, gc g WHERE g.embedding MATCH p.e AND g.k = 4096 AND g.max_distance = t.t AND g.mode = 'exact'
UNION ALL SELECT 'l2', p.pid, g.rowid, g.distance FROM probes p JOIN thr t ON t.m = 'l2' AND t.pid = p.pid, gl g WHERE g.embedding MATCH p.e AND g.k = 4096 AND g.max_distance = t.t AND g.mode = 'exact'
UNION ALL SELECT 'ip', p.pid, g.rowid, g.distance FROM probes p JOIN thr t ON t.m = 'ip' AND t.pid = p.pid, gi g WHERE g.embedding MATCH p.e AND g.k = 4096 AND g.max_distance = t.t AND g.mode = 'exact';
SELECT 'threshold rows', count(*) >= 3 * 22 * 5 FROM gotd;
SELECT 'threshold differences', count(*) FROM (
  SELECT m, pid, id, d FROM gotd
  EXCEPT SELECT e.m, e.pid, e.id, e.d FROM exr e JOIN thr t ON t.m = e.m AND t.pid = e.pid WHERE e.f = 'all' AND e.d <= t.t
  UNION ALL
  SELECT e.m, e.pid, e.id, e.d FROM exr e JOIN thr t ON t.m = e.m AND t.pid = e.pid WHERE e.f = 'all' AND e.d <= t.t
  EXCEPT SELECT m, pid, id, d FROM gotd);

-- default mode: not exact (of rows tied at the k-th distance it may return
-- any, and it may miss a row), but every distance it returns is the row's
-- exact distance, and nearly all its rows are within the exact k-th distance
CREATE TABLE dflt AS SELECT p.pid, g.rowid AS id, g.distance AS d FROM probes p, gc g WHERE g.embedding MATCH p.e AND g.k = 10;
SELECT 'default rows', count(*) FROM dflt;
SELECT 'default distances not exact', count(*) FROM (
  SELECT pid, id, d FROM dflt EXCEPT SELECT pid, id, d FROM exr WHERE m = 'cosine' AND f = 'all');
SELECT 'default rows within the exact 10th distance >= 0.8', count(*) >= 0.8 * 22 * 10 FROM dflt x
 WHERE x.d <= (SELECT d FROM exr WHERE m = 'cosine' AND f = 'all' AND pid = x.pid AND rn = 10);
