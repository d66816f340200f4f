-- Extension points of frt_governance.  Its layers form a stack (audit,
-- registry, jobs, intrusion): a layer uses only the layers below it.  Where
-- a lower layer must let a higher one take part (a check before a match, a
-- counter after an audit record), the lower layer declares a point here,
-- with the arguments its handlers take, and calls the handlers registered
-- for it, in (position, handler) order; the higher layer registers its
-- handler with frt._hook_register.  The lower layer never names a higher
-- layer's object.  docs/architecture.md lists the points.

-- The layers of frt_governance, bottom-up: a handler's layer must be above
-- the layer that offers the point.
CREATE TABLE @extschema@.governance_layer (
	layer		pg_catalog.text PRIMARY KEY,
	rank		pg_catalog.int4 NOT NULL UNIQUE
);
INSERT INTO @extschema@.governance_layer VALUES ('audit', 1), ('registry', 2), ('jobs', 3), ('intrusion', 4);
COMMENT ON TABLE @extschema@.governance_layer IS 'the layers of frt_governance, bottom-up';

CREATE TABLE @extschema@.extension_point (
	point		pg_catalog.text PRIMARY KEY,
	offered_by	pg_catalog.text NOT NULL REFERENCES @extschema@.governance_layer,	-- calls the handlers
	arguments	pg_catalog.text NOT NULL,	-- a handler's argument types
	returns		pg_catalog.text NOT NULL,	-- a handler's result type
	description pg_catalog.text NOT NULL
);
COMMENT ON TABLE @extschema@.extension_point IS
	'points where a lower frt_governance layer calls handlers of higher layers';

CREATE TABLE @extschema@.extension_hook (
	point		pg_catalog.text NOT NULL REFERENCES @extschema@.extension_point,
	handler		pg_catalog.text NOT NULL,	-- a function of this schema
	layer		pg_catalog.text NOT NULL REFERENCES @extschema@.governance_layer,	-- registered it
	position	pg_catalog.int4 NOT NULL DEFAULT 100,
	PRIMARY KEY (point, handler)
);
COMMENT ON TABLE @extschema@.extension_hook IS
	'handlers registered by higher frt_governance layers at the extension points';
REVOKE ALL ON @extschema@.governance_layer, @extschema@.extension_point, @extschema@.extension_hook FROM PUBLIC;

-- Declare an extension point (called by the layer that offers it).
CREATE FUNCTION @extschema@._hook_point(p_point pg_catalog.text, p_offered_by pg_catalog.text,
	p_arguments pg_catalog.text, p_returns pg_catalog.text, p_description pg_catalog.text)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO @extschema@.extension_point VALUES (p_point, p_offered_by, p_arguments, p_returns,
		p_description);
$$;

-- Register a handler (called by a higher layer).  The handler must exist in
-- this schema with exactly the point's arguments and result type, and its
-- layer must be above the one that offers the point.
CREATE FUNCTION @extschema@._hook_register(p_point pg_catalog.text, p_handler pg_catalog.text,
	p_layer pg_catalog.text, p_position pg_catalog.int4 DEFAULT 100)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pt @extschema@.extension_point;
	fn pg_catalog.regprocedure;
BEGIN
	SELECT * INTO pt FROM @extschema@.extension_point WHERE point = p_point;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('no extension point %s', p_point), ERRCODE = 'undefined_object';
	END IF;
	fn := pg_catalog.to_regprocedure(pg_catalog.format('%I.%I(%s)', '@extschema@', p_handler,
		pt.arguments));
	IF fn IS NULL OR (SELECT p.prorettype FROM pg_catalog.pg_proc p WHERE p.oid = fn)
		OPERATOR(pg_catalog.<>) pg_catalog.to_regtype(pt.returns) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('handler %s(%s) returning %s does not exist for extension point %s',
			p_handler, pt.arguments, pt.returns, p_point), ERRCODE = 'undefined_function';
	END IF;
	IF (SELECT l.rank FROM @extschema@.governance_layer l WHERE l.layer OPERATOR(pg_catalog.=) p_layer)
		OPERATOR(pg_catalog.<=) (SELECT l.rank FROM @extschema@.governance_layer l
								 WHERE l.layer OPERATOR(pg_catalog.=) pt.offered_by) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('layer %s may not register at extension point %s of layer %s: handlers come from the layers above',
			p_layer, p_point, pt.offered_by), ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO @extschema@.extension_hook VALUES (p_point, p_handler, p_layer, p_position);
END
$$;

-- The handlers of a point, as qualified function names, in call order.
CREATE FUNCTION @extschema@._hook_handlers(p_point pg_catalog.text)
RETURNS SETOF pg_catalog.text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.format('%I.%I', '@extschema@', h.handler)
	  FROM @extschema@.extension_hook h
	 WHERE h.point OPERATOR(pg_catalog.=) p_point
	 ORDER BY h.position, h.handler;
$$;

-- ---- The audit layer's point: after each audit record ----

SELECT @extschema@._hook_point('audit_recorded', 'audit', '@extschema@.audit', 'void',
	'each audit record, in the transaction of the audit writer that commits it (so as rollback-proof as the record); not during a restore');

-- Trigger on frt.audit: hand each new record to the audit_recorded handlers.
CREATE FUNCTION @extschema@._audit_recorded()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	h pg_catalog.text;
BEGIN
	-- a restore reloads old records: they are history, not new events
	IF @extschema@.audit_restoring() THEN
		RETURN NULL;
	END IF;
	-- a failing handler must not make the writer fail the other sessions'
	-- records of its batch: its error is logged and the record stands
	FOR h IN SELECT @extschema@._hook_handlers('audit_recorded') LOOP
		BEGIN
			EXECUTE pg_catalog.format('SELECT %s($1)', h) USING NEW;
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING USING MESSAGE = @extschema@._t('frt: audit_recorded handler %s failed on record %s: %s', h, NEW.seq, SQLERRM);
		END;
	END LOOP;
	RETURN NULL;
END
$$;
CREATE TRIGGER audit_recorded AFTER INSERT ON @extschema@.audit
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_recorded();

REVOKE ALL ON FUNCTION @extschema@._hook_point(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._hook_register(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._hook_handlers(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._audit_recorded() FROM PUBLIC;

-- ---- Alerts ----

-- Raise an alert: a record in the audit trail (event 'alert', outcome =
-- kind; rollback-proof) and a server-log WARNING.  The detail must hold ids
-- and counts only, never biometric data.  Used by the layers above.
CREATE FUNCTION @extschema@._alert(p_kind pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text, p_detail pg_catalog.jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.audit_event('alert', p_kind, p_purpose, p_subject, p_device, NULL, NULL, p_detail);
	RAISE WARNING USING MESSAGE = @extschema@._t('frt alert %s: %s', p_kind, p_detail::pg_catalog.text);
END
$$;
REVOKE ALL ON FUNCTION @extschema@._alert(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.jsonb) FROM PUBLIC;

-- The alerts: audit records of event 'alert' (raised through _alert by the
-- layers above).  A record made on a standby names its caller and the
-- standby in detail->'origin'.
CREATE VIEW @extschema@.alert AS
	SELECT a.seq, a.at, a.outcome AS kind,
		   COALESCE(a.detail #>> '{origin,role}', a.role_name) AS role_name,
		   a.detail #>> '{origin,standby}' AS standby,
		   a.purpose, a.subject, a.device, a.detail - 'origin' AS detail
	  FROM @extschema@.audit a
	 WHERE a.event = 'alert';
COMMENT ON VIEW @extschema@.alert IS
	'alerts raised through frt._alert (audit records of event ''alert'') (Measures Art. 14)';
REVOKE ALL ON @extschema@.alert FROM PUBLIC;
GRANT SELECT ON @extschema@.alert TO frt_auditor;

-- ---- Privileges that cannot drift ----

-- Revoke EXECUTE from PUBLIC on every function of frt_governance whose
-- privileges were never set (a new function nobody granted), so that no
-- function is callable by every role by oversight.  Each layer calls it
-- before it grants (its 90_grants.sql; the audit layer here), so a function
-- granted to a role is revoked from PUBLIC first; the few meant for every
-- role are granted to PUBLIC explicitly after it.  The last fragment of the
-- install script calls it once more, for anything defined after a layer's
-- grants.
CREATE FUNCTION @extschema@._revoke_public_execute()
RETURNS pg_catalog.int4
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f pg_catalog.regprocedure;
	n pg_catalog.int4 := 0;
BEGIN
	FOR f IN
		SELECT p.oid::pg_catalog.regprocedure
		  FROM pg_catalog.pg_proc p
		  JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
			   AND d.objid OPERATOR(pg_catalog.=) p.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'
		  JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
		 WHERE e.extname OPERATOR(pg_catalog.=) 'frt_governance' AND p.proacl IS NULL
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._revoke_public_execute() FROM PUBLIC;

-- The audit layer's own functions.
SELECT @extschema@._revoke_public_execute();
