-- Attack (Art. 8, 14): every rejected call is on record.  A requested
-- retention whose end does not fit a timestamp ('178000000 years', the
-- largest interval) failed with 22008 from the date arithmetic, and left
-- no 'rejected' record.
SELECT gov_world('xr');
SET client_min_messages = warning;
DROP ROLE IF EXISTS xr_desk;
RESET client_min_messages;
CREATE ROLE xr_desk IN ROLE frt_enroller;
SET SESSION AUTHORIZATION xr_desk;
SELECT left(gov_try($$SELECT frt.enroll('xr_s1', 'xr_station', '[1,0,0]', 'xr_hall', '178000000 years')$$), 5) AS sqlstate;
SELECT left(gov_try($$SELECT frt.enroll('xr_s1', 'xr_station', '[1,0,0]', 'xr_hall', '2562047788:00:54.775807')$$), 5) AS sqlstate;
SELECT left(gov_try($$SELECT frt.enroll('xr_s1', 'xr_station', '[1,0,0]', 'xr_hall', '-178000000 years')$$), 5) AS sqlstate;
RESET SESSION AUTHORIZATION;
SELECT event, sqlstate, detail->>'function' AS function FROM frt.audit
 WHERE role_name = 'xr_desk' ORDER BY seq;
SELECT count(*) AS faces FROM frt.face WHERE subject = 'xr_s1';
