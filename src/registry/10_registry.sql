-- Layer 5: the registry.  Registry, subject, consent and face tables.
--
-- The tables keep every fact a regulator may ask about (Measures Art. 5-15)
-- with constraints that make malformed records unrepresentable.  States that
-- are well-formed but not yet lawful to *process* (a verification purpose
-- still lacking its non-face alternative, a public-place device before its
-- signs are up, a consent given by a minor personally) are representable on
-- purpose: processing refuses them with an MF SQLSTATE, and
-- frt.compliance_report() lists them.  See docs/governance-schema.md.

-- Art. 5(1): the personal information processor.
CREATE TABLE @extschema@.processor (
	name			pg_catalog.text PRIMARY KEY CHECK (pg_catalog.btrim(name) <> ''),
	contact			pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(contact) <> ''),
	registered_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- the zone of the processor's legal dates (ages, assessment validity,
	-- retention, filing days); a tz database name, checked in 20_legal_time.sql
	legal_time_zone	pg_catalog.text NOT NULL DEFAULT 'Asia/Shanghai'
);
COMMENT ON TABLE @extschema@.processor IS 'personal information processor: name and contact (Measures Art. 5(1))';
COMMENT ON COLUMN @extschema@.processor.legal_time_zone IS 'time zone of the processor''s legal dates and retention calendar (tz database name; default Asia/Shanghai)';

-- Several processors in one database (a hosting company, a group of
-- subsidiaries): each login acts for the one processor it is bound to, and
-- sees and administers only that processor's rows (row-level security in
-- 85_tenancy.sql; explicit checks in the SECURITY DEFINER functions).  A
-- superuser binds logins; see docs/operations.md, "Several processors in
-- one database".
CREATE TABLE @extschema@.processor_login (
	login			pg_catalog.name PRIMARY KEY,
	processor		pg_catalog.text NOT NULL REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	bound_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	bound_by		pg_catalog.text NOT NULL DEFAULT pg_catalog.session_user()
);
COMMENT ON TABLE @extschema@.processor_login IS 'the processor each login acts for (written by a superuser); an unbound login acts for the sole processor while there is exactly one';

-- Whether the caller (frt._caller()) is a superuser: it acts for every
-- processor.
CREATE FUNCTION @extschema@._caller_is_superuser()
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r
					 WHERE r.rolname OPERATOR(pg_catalog.=) @extschema@._caller()), false);
END
$$;

-- The processor the caller acts for: its binding in frt.processor_login,
-- else the sole processor while exactly one is registered; NULL for a
-- superuser (who acts for all) and for an unbound login once there are
-- several (it sees nothing and is refused everything).
CREATE FUNCTION @extschema@._caller_processor()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_proc pg_catalog.text;
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN NULL;
	END IF;
	SELECT l.processor INTO v_proc FROM @extschema@.processor_login l
	WHERE l.login OPERATOR(pg_catalog.=) @extschema@._caller();
	IF FOUND THEN
		RETURN v_proc;
	END IF;
	RETURN @extschema@._sole_processor();
END
$$;

-- The processor, while exactly one is registered; else NULL.
CREATE FUNCTION @extschema@._sole_processor()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT pg_catalog.min(p.name) FROM @extschema@.processor p
			HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) 1);
END
$$;

-- The processor a new row (or a subject named alone) is for: the
-- caller's; for a superuser, the setting frt.processor when set, else the
-- installation's first processor (the earliest registered), so that a
-- single-processor installation that registers a second one keeps working
-- as it did for its superuser.
CREATE FUNCTION @extschema@._acting_processor()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN COALESCE(NULLIF(pg_catalog.current_setting('frt.processor', true), ''),
			(SELECT p.name FROM @extschema@.processor p ORDER BY p.registered_at, p.name LIMIT 1));
	END IF;
	RETURN @extschema@._caller_processor();
END
$$;

-- Whether the caller may see and use a row of processor p_processor: a
-- superuser always; anyone else only its own processor's.  Used by the
-- row-level security policies and by the SECURITY DEFINER functions.
CREATE FUNCTION @extschema@._processor_visible(p_processor pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN @extschema@._caller_is_superuser()
		OR COALESCE(p_processor OPERATOR(pg_catalog.=) @extschema@._caller_processor(), false);
END
$$;

-- The matching bounds of include/frt_governance.h (src/registry/match_bounds.c):
-- the ceiling and default of purpose.max_k, and the step a disclosure mode
-- floors a similarity to ('rounded', 'banded'; NULL for the others).
CREATE FUNCTION @extschema@._identify_k_ceiling()
RETURNS pg_catalog.int4
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_identify_k_ceiling';
CREATE FUNCTION @extschema@._identify_k_default()
RETURNS pg_catalog.int4
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_identify_k_default';
CREATE FUNCTION @extschema@._score_step(p_mode pg_catalog.text)
RETURNS pg_catalog.float8
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_score_step';

-- Art. 4: every face and every match is tied to a registered purpose.
CREATE TABLE @extschema@.purpose (
	name			pg_catalog.text PRIMARY KEY CHECK (pg_catalog.btrim(name) <> ''),
	processor		pg_catalog.text NOT NULL DEFAULT @extschema@._acting_processor()
		REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	kind			pg_catalog.text NOT NULL CHECK (kind IN ('verification', 'identification')),
	description		pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(description) <> ''),
	method			pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(method) <> ''),
	retention		pg_catalog.interval NOT NULL CHECK (retention > '0'::pg_catalog.interval),
	minor_retention pg_catalog.interval CHECK (minor_retention > '0'::pg_catalog.interval),
	similarity_threshold pg_catalog.float8 NOT NULL DEFAULT 0.6
		CHECK (similarity_threshold BETWEEN -1 AND 1),
	alternative_method pg_catalog.text CHECK (pg_catalog.btrim(alternative_method) <> ''),
	serves_public_security pg_catalog.bool NOT NULL DEFAULT false,
	dimension		pg_catalog.int4 CHECK (dimension BETWEEN 1 AND 4096),
	-- what a match may disclose (Art. 14): the most subjects one
	-- identification returns, and how finely a similarity is shown
	max_k			pg_catalog.int4 NOT NULL DEFAULT @extschema@._identify_k_default()
		CHECK (max_k >= 1 AND max_k <= @extschema@._identify_k_ceiling()),
	score_disclosure pg_catalog.text NOT NULL DEFAULT 'rounded'
		CHECK (score_disclosure IN ('exact', 'rounded', 'banded', 'none')),
	created_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	changed_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- approval (Art. 14): who registered or last changed a fact of the
	-- purpose, and who approved that (src/registry/45_authz.sql)
	changed_by		pg_catalog.name,
	approved_by		pg_catalog.name,
	approved_at		pg_catalog.timestamptz,
	-- Art. 5, 9: the recognition model (name and version) the purpose uses
	model			pg_catalog.text CHECK (pg_catalog.btrim(model) <> ''),
	-- Art. 7: whether subjects under 14 may be processed at all (strict default)
	minors_allowed	pg_catalog.bool NOT NULL DEFAULT false,
	-- Art. 8: where the purpose's faces are stored, and for central storage
	-- the law or administrative regulation that allows it without the
	-- subject's separate consent (NULL: each subject's consent is needed)
	storage			pg_catalog.text NOT NULL DEFAULT 'central' CHECK (storage IN ('device', 'central')),
	storage_legal_basis pg_catalog.text CHECK (pg_catalog.btrim(storage_legal_basis) <> ''),
	CONSTRAINT purpose_minor_retention_bound CHECK (minor_retention <= retention),
	CONSTRAINT purpose_processor_name_key UNIQUE (processor, name),
	CONSTRAINT purpose_approval_pair CHECK ((approved_by IS NULL) = (approved_at IS NULL))
);
COMMENT ON TABLE @extschema@.purpose IS 'registered processing purposes (Measures Art. 4, 8, 10, 13)';
COMMENT ON COLUMN @extschema@.purpose.max_k IS 'most subjects one identification may ask for and return (1 .. the ceiling FRT_IDENTIFY_MAX_K; default 10); a larger k is refused (MF142)';
COMMENT ON COLUMN @extschema@.purpose.score_disclosure IS 'how finely verify and identify show a similarity: exact, rounded (down to 0.01), banded (down to 0.1) or none; below the threshold none is shown unless exact';
COMMENT ON COLUMN @extschema@.purpose.approved_at IS 'when a member of frt_admin (not the one who changed it) approved the purpose''s facts; NULL: processing is refused (MF146) until frt.approve_purpose()';
COMMENT ON COLUMN @extschema@.purpose.minor_retention IS 'retention for subjects under 14 (Art. 7), never longer than retention; NULL on insert means retention';
COMMENT ON COLUMN @extschema@.purpose.model IS 'recognition model and version; a change needs a new notice and voids the assessment (Art. 5, 9)';
COMMENT ON COLUMN @extschema@.purpose.minors_allowed IS 'whether subjects under 14 may be processed at all (Art. 7); false refuses them (MF070) and hides their faces from 1:N';
COMMENT ON COLUMN @extschema@.purpose.storage IS 'where faces are stored (Art. 8): device (never in this database) or central (this database: needs storage_legal_basis or the subject''s central-storage consent)';
COMMENT ON COLUMN @extschema@.purpose.storage_legal_basis IS 'law or administrative regulation allowing central storage without separate consent (Art. 8); NULL: consent needed';

-- Art. 5: versioned notices, one series per purpose, insert-only.
CREATE TABLE @extschema@.notice (
	purpose			pg_catalog.text NOT NULL REFERENCES @extschema@.purpose (name),
	version			pg_catalog.int4 NOT NULL CHECK (version > 0),
	body			pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(body) <> ''),
	processing_method pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(processing_method) <> ''),
	retention_statement pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(retention_statement) <> ''),
	necessity_and_impact pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(necessity_and_impact) <> ''),
	rights_procedure pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(rights_procedure) <> ''),
	accessibility	pg_catalog.text,
	material_change pg_catalog.bool NOT NULL DEFAULT true,
	published_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- the purpose's facts this version states, taken at publication
	-- (frt._notice_facts); processing is refused while they differ
	facts			pg_catalog.jsonb NOT NULL DEFAULT '{}',
	PRIMARY KEY (purpose, version)
);
COMMENT ON TABLE @extschema@.notice IS 'versioned notices with every Measures Art. 5 item; material_change requires re-notice of earlier consents';
COMMENT ON COLUMN @extschema@.notice.facts IS 'the purpose''s facts stated by this version, taken at publication (Art. 5); a version whose facts differ from the previous one''s is material';

-- Art. 9: personal information protection impact assessments, kept >= 3 years.
CREATE SEQUENCE @extschema@.assessment_id_seq;
CREATE TABLE @extschema@.assessment (
	id				pg_catalog.int8 PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.assessment_id_seq'),
	purpose			pg_catalog.text NOT NULL REFERENCES @extschema@.purpose (name),
	assessed_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	assessor		pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(assessor) <> ''),
	report			pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(report) <> ''),
	valid_until		pg_catalog.date,
	voided_at		pg_catalog.timestamptz,
	void_reason		pg_catalog.text,
	CHECK ((voided_at IS NULL) = (void_reason IS NULL))
);
ALTER SEQUENCE @extschema@.assessment_id_seq OWNED BY @extschema@.assessment.id;
CREATE INDEX assessment_purpose_idx ON @extschema@.assessment (purpose);
COMMENT ON TABLE @extschema@.assessment IS 'impact assessments (Measures Art. 9); voided when the purpose or method changes';

-- Art. 13: capture devices with their location type and signage.
CREATE TABLE @extschema@.device (
	processor		pg_catalog.text NOT NULL DEFAULT @extschema@._acting_processor()
		REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	name			pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
	location_type	pg_catalog.text NOT NULL CHECK (location_type IN
		('private_space', 'public_place', 'workplace', 'business_premises',
		 'residential', 'personal_device')),
	capture_area	pg_catalog.text,
	signage			pg_catalog.bool NOT NULL DEFAULT false,
	description		pg_catalog.text,
	registered_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- approval (Art. 14): who registered or last changed its location,
	-- signage or capture area, and who approved that
	changed_by		pg_catalog.name,
	approved_by		pg_catalog.name,
	approved_at		pg_catalog.timestamptz,
	PRIMARY KEY (processor, name),
	CONSTRAINT device_approval_pair CHECK ((approved_by IS NULL) = (approved_at IS NULL))
);
COMMENT ON COLUMN @extschema@.device.approved_at IS 'when a member of frt_admin (not the one who changed it) approved the device''s location, signage and capture area; NULL: processing is refused (MF146) until frt.approve_device()';
COMMENT ON TABLE @extschema@.device IS 'face recognition devices (Measures Art. 13); private_space = hotel rooms, bathhouses, changing rooms, toilets';

-- Art. 15: public holidays and official make-up working days, for deadlines.
CREATE TABLE @extschema@.holiday (
	day				pg_catalog.date PRIMARY KEY,
	name			pg_catalog.text NOT NULL,
	is_workday		pg_catalog.bool NOT NULL DEFAULT false,
	-- loaded by the install script from the calendar shipped with frt
	-- (src/registry/15_calendar.sql): not dumped, the install reloads it
	shipped			pg_catalog.bool NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.holiday IS 'public holidays (is_workday = false) and weekend days that are official working days (is_workday = true)';

-- Pseudonymous subjects: no identity data here (GB/T 35273 separation).
-- Ids are pseudonyms chosen by each processor: two processors may both
-- have a subject "u1", and neither learns of the other's.
CREATE TABLE @extschema@.subject (
	processor		pg_catalog.text NOT NULL DEFAULT @extschema@._acting_processor()
		REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	id				pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(id) <> ''),
	birth_date		pg_catalog.date NOT NULL CHECK (birth_date > '1900-01-01'),
	created_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (processor, id)
);
COMMENT ON TABLE @extschema@.subject IS 'pseudonymous subjects: id and birth date only';

-- Art. 6, 7, 8, 12: separate consent per subject and purpose.
CREATE SEQUENCE @extschema@.consent_id_seq;
CREATE TABLE @extschema@.consent (
	id				pg_catalog.int8 PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.consent_id_seq'),
	processor		pg_catalog.text NOT NULL,	-- the purpose's (frt._tenant_fill)
	subject			pg_catalog.text NOT NULL,
	purpose			pg_catalog.text NOT NULL REFERENCES @extschema@.purpose (name),
	notice_version	pg_catalog.int4 NOT NULL,
	given_by		pg_catalog.text NOT NULL CHECK (given_by IN ('self', 'guardian')),
	guardian_ref	pg_catalog.text CHECK (pg_catalog.btrim(guardian_ref) <> ''),
	obtained_how	pg_catalog.text NOT NULL CHECK (obtained_how IN ('written', 'electronic', 'in_person')),
	separate		pg_catalog.bool NOT NULL DEFAULT true,
	condition_of_service pg_catalog.bool NOT NULL DEFAULT false,
	transfer_consent pg_catalog.bool NOT NULL DEFAULT false,
	central_storage_consent pg_catalog.bool NOT NULL DEFAULT false,
	given_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	renewed_at		pg_catalog.timestamptz,
	withdrawn_at	pg_catalog.timestamptz,
	needs_renotice	pg_catalog.bool NOT NULL DEFAULT false,
	FOREIGN KEY (purpose, notice_version) REFERENCES @extschema@.notice (purpose, version),
	FOREIGN KEY (processor, subject) REFERENCES @extschema@.subject (processor, id) ON UPDATE CASCADE,
	FOREIGN KEY (processor, purpose) REFERENCES @extschema@.purpose (processor, name) ON UPDATE CASCADE,
	CHECK ((given_by = 'guardian') = (guardian_ref IS NOT NULL))
);
ALTER SEQUENCE @extschema@.consent_id_seq OWNED BY @extschema@.consent.id;
CREATE UNIQUE INDEX consent_active_idx ON @extschema@.consent (subject, purpose) WHERE withdrawn_at IS NULL;
CREATE INDEX consent_purpose_idx ON @extschema@.consent (purpose, notice_version);
COMMENT ON TABLE @extschema@.consent IS 'separate consent per subject and purpose (Measures Art. 6, 7, 8, 12)';
COMMENT ON COLUMN @extschema@.consent.central_storage_consent IS 'separate consent to storing the face in this (central) database rather than on the device (Art. 8); distinct from transfer_consent';

-- The face store.  embedding holds the face sealed under a key epoch
-- (src/keys: AES-256-GCM or SM4/SM3, bound to the row's id), never the
-- vector itself; key_epoch names the epoch, so rotation and key destruction
-- find their rows.  embedding is readable by no role (column privileges);
-- rows are reached only through the internal path in 30_face.sql.
CREATE SEQUENCE @extschema@.face_id_seq;
CREATE TABLE @extschema@.face (
	id				pg_catalog.int8 PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.face_id_seq'),
	processor		pg_catalog.text NOT NULL,	-- the purpose's (frt._tenant_fill)
	subject			pg_catalog.text NOT NULL,
	purpose			pg_catalog.text NOT NULL REFERENCES @extschema@.purpose (name),
	device			pg_catalog.text,
	consent_id		pg_catalog.int8 NOT NULL REFERENCES @extschema@.consent (id),
	embedding		pg_catalog.bytea NOT NULL,
	minor			pg_catalog.bool NOT NULL,
	enrolled_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	expires_at		pg_catalog.timestamptz NOT NULL,
	key_epoch		pg_catalog.int8 NOT NULL,
	FOREIGN KEY (processor, subject) REFERENCES @extschema@.subject (processor, id) ON UPDATE CASCADE,
	FOREIGN KEY (processor, purpose) REFERENCES @extschema@.purpose (processor, name) ON UPDATE CASCADE,
	FOREIGN KEY (processor, device) REFERENCES @extschema@.device (processor, name) ON UPDATE CASCADE,
	CHECK (expires_at > enrolled_at)
);
-- A sealed face (2,086 bytes at 512 dimensions) stays in its heap row, as
-- a plain one does (STORAGE main of face_embedding): matching opens each
-- candidate, and a TOAST fetch per candidate would cost more than the
-- opening.  Ciphertext does not compress, so it is never tried; a row too
-- big for a page (thousands of dimensions) still goes out of line.
ALTER TABLE @extschema@.face ALTER COLUMN embedding SET STORAGE EXTERNAL;
ALTER TABLE @extschema@.face SET (toast_tuple_target = 8160);
ALTER SEQUENCE @extschema@.face_id_seq OWNED BY @extschema@.face.id;
CREATE INDEX face_subject_purpose_idx ON @extschema@.face (subject, purpose);
CREATE INDEX face_consent_idx ON @extschema@.face (consent_id);
CREATE INDEX face_expires_idx ON @extschema@.face (expires_at);
CREATE INDEX face_key_epoch_idx ON @extschema@.face (key_epoch);
COMMENT ON TABLE @extschema@.face IS 'stored face embeddings; RLS hides rows whose consent is withdrawn or retention ended';

-- Art. 10: a person declined face verification and used the alternative.
CREATE SEQUENCE @extschema@.decline_id_seq;
CREATE TABLE @extschema@.decline (
	id				pg_catalog.int8 PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.decline_id_seq'),
	processor		pg_catalog.text NOT NULL,	-- the purpose's (frt._tenant_fill)
	subject			pg_catalog.text,
	purpose			pg_catalog.text NOT NULL REFERENCES @extschema@.purpose (name),
	device			pg_catalog.text,
	declined_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	FOREIGN KEY (processor, purpose) REFERENCES @extschema@.purpose (processor, name) ON UPDATE CASCADE,
	FOREIGN KEY (processor, device) REFERENCES @extschema@.device (processor, name) ON UPDATE CASCADE
);
ALTER SEQUENCE @extschema@.decline_id_seq OWNED BY @extschema@.decline.id;
COMMENT ON TABLE @extschema@.decline IS 'declined face verifications (Measures Art. 10); never blocks the person';

-- Art. 15: filing state, one row per processor (created on first use; the
-- threshold of 100,000 people applies to each processor), maintained by the
-- face store path.
CREATE TABLE @extschema@.filing_state (
	processor		pg_catalog.text PRIMARY KEY DEFAULT @extschema@._acting_processor()
		REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	stored_subjects pg_catalog.int8 NOT NULL DEFAULT 0 CHECK (stored_subjects >= 0),
	threshold_reached_on pg_catalog.date,
	filed_on		pg_catalog.date,
	filing_reference pg_catalog.text
);
COMMENT ON TABLE @extschema@.filing_state IS 'per processor: distinct subjects stored and the day 100,000 was first reached (Measures Art. 15)';

-- pg_dump keeps the registry, consents and faces (extension config tables).
SELECT pg_catalog.pg_extension_config_dump('@extschema@.processor', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.processor_login', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.purpose', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.notice', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.assessment', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.assessment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.device', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.holiday', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.subject', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.consent', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.consent_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.face', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.face_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.decline', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.decline_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.filing_state', '');

-- Terminated purposes (Art. 15: cancellation filing; data erased): a fact
-- about the purpose, recorded by a layer above when it ends the purpose.
CREATE TABLE @extschema@.purpose_termination (
	purpose		pg_catalog.text PRIMARY KEY,	-- a frt.purpose name (checked by terminate_purpose)
	terminated_on pg_catalog.date NOT NULL,
	recorded_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	recorded_by pg_catalog.text NOT NULL DEFAULT pg_catalog.session_user()
);
COMMENT ON TABLE @extschema@.purpose_termination IS
	'purposes whose face processing has ended: their faces are erased and the filing cancelled within 30 working days (Measures Art. 15)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.purpose_termination', '');
