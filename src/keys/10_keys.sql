-- Layer 7: the key provider (see docs/operations.md, "Encryption keys").
--
-- Faces are stored sealed: AES-256-GCM (or SM4-CTR with HMAC-SM3) under a
-- key epoch of the keyring, whose key is derived from the root key loaded at
-- server start.  These functions are the only way SQL seals or opens a face;
-- EXECUTE is granted to nobody: the registry's SECURITY DEFINER functions
-- call them.  Without a root key and a keyring they fail closed (MF150).

-- The embedding sealed under the current epoch, bound to the face's id
-- (associated data "frt-face-v1" || id): it opens only with the same id.
CREATE FUNCTION @extschema@._face_seal(p_id pg_catalog.int8, p_embedding @extschema@.face_embedding)
RETURNS pg_catalog.bytea
LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'frt_face_seal';

-- The embedding of a sealed value, if it authenticates for this id (else an
-- error: XX001 tampered, MF151 epoch destroyed, MF150 key not here).
-- IMMUTABLE: used in the expressions of the face store's indexes.  COST 50:
-- opening a face costs about as much as 50 operators, so the planner does
-- not prefer opening every row of a sequential scan to an index scan.
CREATE FUNCTION @extschema@._face_open(p_id pg_catalog.int8, p_sealed pg_catalog.bytea)
RETURNS @extschema@.face_embedding
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE COST 50 AS 'MODULE_PATHNAME', 'frt_face_open';

-- The transaction-level advisory lock that serialises the destruction of
-- a key epoch (frt.key_destroy_unused takes it exclusive) with every
-- transaction that seals (each seal takes it shared, in C).
CREATE FUNCTION @extschema@._key_lock_id()
RETURNS pg_catalog.int8
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_key_lock_id';

-- The key epoch a sealed value is under (needs no key).
CREATE FUNCTION @extschema@._sealed_epoch(p_sealed pg_catalog.bytea)
RETURNS pg_catalog.int8
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_sealed_epoch';

-- The epoch new seals of this database use (the highest epoch it owns);
-- NULL before its first seal created one.
CREATE FUNCTION @extschema@._key_current_epoch()
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_current_epoch';

-- A new epoch owned by this database (numbered after the keyring's highest),
-- its current one from now on (on the primary; a standby gets it by a copy
-- of the keyring's files).
CREATE FUNCTION @extschema@._key_epoch_create()
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_epoch_create';

-- Destroy an epoch's key for good: what is sealed under it can no longer be
-- opened, here or from any backup.  Refuses the current epoch, the keyring's
-- highest and an epoch another database owns (42501); an epoch of no living
-- database (an epoch file without an owner, a dropped database) only here,
-- never by frt.key_destroy_unused.
CREATE FUNCTION @extschema@._key_epoch_destroy(p_epoch pg_catalog.int8)
RETURNS pg_catalog.void
LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'frt_key_epoch_destroy';

-- The keyring's epochs, of every database (any of them opens here);
-- is_current: the one this database seals under; verified: the root key
-- derives the epoch's check value; owner_db: the database that created it
-- (NULL for an epoch file without an owner).
CREATE FUNCTION @extschema@._key_epochs()
RETURNS TABLE (epoch pg_catalog.int8, suite pg_catalog.text, created_at pg_catalog.timestamptz,
	is_current pg_catalog.bool, verified pg_catalog.bool, owner_db pg_catalog.oid)
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_epochs';

-- Whether the root key is loaded and from where (never the key itself), the
-- keyring, the suite of new epochs and this database's current epoch.
CREATE FUNCTION @extschema@._key_status()
RETURNS TABLE (key_loaded pg_catalog.bool, key_source pg_catalog.text, keyring pg_catalog.text,
	suite pg_catalog.text, current_epoch pg_catalog.int8)
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_status';

-- During a root key rotation: the epochs of the keyring the previous root
-- key (frt.encryption_previous_key_file) derives; none left: the previous
-- key is no longer needed.
CREATE FUNCTION @extschema@._key_previous_epochs()
RETURNS pg_catalog.int8[]
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_previous_epochs';

-- For a standby: each epoch asked for (NULL: every epoch of the keyring),
-- its file as the keyring holds it (NULL if it is not there) and the
-- keyring's highest epoch.  An epoch's file is inert without the root key,
-- which alone derives its check value.  Granted to frt_audit_relay: a
-- standby calls it through the audit relay's connection.
CREATE FUNCTION @extschema@._key_epoch_records(p_epochs pg_catalog.int8[])
RETURNS TABLE (epoch pg_catalog.int8, record pg_catalog.bytea, highest pg_catalog.int8)
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_epoch_records';

-- On a standby: copy an epoch (NULL: every epoch the primary has) from the
-- primary into this server's keyring if it lacks it; how many were copied.
-- A standby also copies an epoch by itself when it meets a face under it.
CREATE FUNCTION @extschema@._key_fetch(p_epoch pg_catalog.int8 DEFAULT NULL)
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_fetch';

REVOKE ALL ON FUNCTION @extschema@._face_seal(pg_catalog.int8, @extschema@.face_embedding) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._face_open(pg_catalog.int8, pg_catalog.bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._sealed_epoch(pg_catalog.bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_lock_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_current_epoch() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_epoch_create() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_epoch_destroy(pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_epochs() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_epoch_records(pg_catalog.int8[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_fetch(pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_previous_epochs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._key_epoch_records(pg_catalog.int8[]) TO frt_audit_relay;
