-- Layer 5: the facts a notice states (Art. 5), minors per purpose (Art. 7)
-- and central storage (Art. 8), enforced where the data lives.
--
-- A notice version records the purpose's facts it states, taken when it is
-- published; while the purpose's facts differ from the notice in force,
-- processing is refused (MF050) and the compliance report shows it, until
-- a new version is published.  A version stating other facts than the one
-- before is material whatever the caller says, so consents given under the
-- older version need re-notice.  New versions need an accessibility
-- statement (MF051).

-- The facts of a purpose a notice states (Art. 5(1)-(2)): processor, what
-- and how (kind, description, method, model, dimension), how long (retention,
-- minor_retention), for whom (minors_allowed, serves_public_security) and
-- where faces are kept (storage, storage_legal_basis).  Intervals are
-- rendered in one fixed style, whatever the session's IntervalStyle.
CREATE FUNCTION @extschema@._notice_facts(p @extschema@.purpose)
RETURNS pg_catalog.jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $$
	SELECT pg_catalog.jsonb_build_object(
		'processor', p.processor, 'kind', p.kind, 'description', p.description,
		'method', p.method, 'model', p.model, 'dimension', p.dimension,
		'retention', p.retention::pg_catalog.text, 'minor_retention', p.minor_retention::pg_catalog.text,
		'minors_allowed', p.minors_allowed, 'serves_public_security', p.serves_public_security,
		'storage', p.storage, 'storage_legal_basis', p.storage_legal_basis);
$$;

-- The facts of purpose p that differ from those its notice in force states
-- (sorted names), or NULL when they agree or there is no notice.
CREATE FUNCTION @extschema@._notice_stale_facts(p @extschema@.purpose)
RETURNS pg_catalog.text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_stated pg_catalog.jsonb;
	v_now pg_catalog.jsonb;
	v_diff pg_catalog.text[];
BEGIN
	SELECT n.facts INTO v_stated FROM @extschema@.notice n
	 WHERE n.purpose = p.name ORDER BY n.version DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	v_now := @extschema@._notice_facts(p);
	IF v_now = v_stated THEN
		RETURN NULL;
	END IF;
	SELECT pg_catalog.array_agg(k ORDER BY k) INTO v_diff
	  FROM (SELECT pg_catalog.jsonb_object_keys(v_now) UNION SELECT pg_catalog.jsonb_object_keys(v_stated)) AS t(k)
	 WHERE v_now -> k IS DISTINCT FROM v_stated -> k;
	RETURN v_diff;
END
$$;

-- Refuse processing while the notice in force states other facts than the
-- purpose's (Art. 5: a change is told to the person before it applies).
CREATE FUNCTION @extschema@._check_notice_facts(p @extschema@.purpose, p_function pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_diff pg_catalog.text[] := @extschema@._notice_stale_facts(p);
BEGIN
	IF v_diff IS NOT NULL THEN
		PERFORM @extschema@._refuse('MF050', 5, @extschema@._t(
			'purpose %L changed facts its notice in force states (%s); publish a new notice version first',
			p.name, pg_catalog.array_to_string(v_diff, ', ')), p_function, p.name, p_subject, p_device);
	END IF;
END
$$;

-- A new notice version: it states the purpose's facts as they are (taken
-- here, whatever the caller gave), it is material when they differ from
-- the previous version's, and it carries an accessibility statement for
-- disabled and elderly people (Art. 5).  A restored dump keeps its rows.
CREATE FUNCTION @extschema@._notice_facts_taken()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.purpose;
	v_prev pg_catalog.jsonb;
BEGIN
	IF @extschema@.audit_restoring() THEN
		RETURN NEW;
	END IF;
	-- serialise versions per purpose (as frt._notice_version does)
	SELECT * INTO p FROM @extschema@.purpose WHERE name = NEW.purpose FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		RETURN NEW;		-- the foreign key rejects it
	END IF;
	IF NEW.accessibility IS NULL OR pg_catalog.btrim(NEW.accessibility) = '' THEN
		PERFORM @extschema@._refuse('MF051', 5, @extschema@._t(
			'a notice of purpose %L needs an accessibility statement for disabled and elderly people',
			NEW.purpose), 'publish_notice', NEW.purpose, NULL, NULL,
			p_hint => @extschema@._t('Say how the notice is given in accessible forms (large print, audio, assistance), as the national accessibility rules require.'));
	END IF;
	NEW.facts := @extschema@._notice_facts(p);
	SELECT n.facts INTO v_prev FROM @extschema@.notice n
	 WHERE n.purpose = NEW.purpose ORDER BY n.version DESC LIMIT 1;
	IF FOUND AND v_prev IS DISTINCT FROM NEW.facts THEN
		NEW.material_change := true;
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._notice_facts_taken() FROM PUBLIC;
CREATE TRIGGER notice_facts BEFORE INSERT ON @extschema@.notice
	FOR EACH ROW EXECUTE FUNCTION @extschema@._notice_facts_taken();

-- Art. 8: storing a face in this database is central storage.  Refused for
-- a purpose whose faces stay on devices (MF080), and without either the
-- law or administrative regulation recorded on the purpose or the subject's
-- separate consent to central storage (MF081).
CREATE FUNCTION @extschema@._check_central_storage(p @extschema@.purpose, c @extschema@.consent,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p.storage = 'device' THEN
		PERFORM @extschema@._refuse('MF080', 8, @extschema@._t(
			'purpose %L keeps faces on the recognition device; they are not stored in this database', p.name),
			'enroll', p.name, p_subject, p_device);
	END IF;
	IF p.storage_legal_basis IS NULL AND NOT c.central_storage_consent THEN
		PERFORM @extschema@._refuse('MF081', 8, @extschema@._t(
			'subject %L gave no separate consent to central storage for purpose %L, and the purpose records no legal basis for it',
			p_subject, p.name), 'enroll', p.name, p_subject, p_device,
			p_hint => @extschema@._t('Record the consent (frt.give_consent(..., p_central_storage => true)) or the law or administrative regulation on purpose.storage_legal_basis.'));
	END IF;
END
$$;

-- Art. 7: whether a subject is under 14 decides how it is processed, so a
-- birth date that would change that is not edited: erase the subject and
-- register it again (its consents were given for a child, or for an adult).
CREATE FUNCTION @extschema@._subject_birth_fixed()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.birth_date IS DISTINCT FROM OLD.birth_date
	   AND @extschema@.is_minor(NEW.birth_date) IS DISTINCT FROM @extschema@.is_minor(OLD.birth_date) THEN
		PERFORM @extschema@._refuse('MF072', 7, @extschema@._t(
			'the birth date of subject %L would change whether it is under 14; erase the subject and register it again',
			OLD.id), 'UPDATE subject', NULL, OLD.id, NULL);
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._subject_birth_fixed() FROM PUBLIC;
CREATE TRIGGER subject_birth_fixed BEFORE UPDATE OF birth_date ON @extschema@.subject
	FOR EACH ROW EXECUTE FUNCTION @extschema@._subject_birth_fixed();
ALTER TABLE @extschema@.subject ENABLE ALWAYS TRIGGER subject_birth_fixed;
