-- Layer 6: the audit trail.
--
-- PLACEHOLDER owned by the audit work (issue 5): the table shape and the
-- function signature below are the interface the governance layer calls;
-- the audit layer replaces this body with the durable, hash-chained,
-- background-worker implementation.

CREATE TABLE @extschema@.audit (
	seq			pg_catalog.int8 PRIMARY KEY,
	at			pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	event		pg_catalog.text NOT NULL,
	outcome		pg_catalog.text NOT NULL,
	sqlstate	pg_catalog.text,
	role_name	pg_catalog.text NOT NULL DEFAULT pg_catalog.session_user(),
	application pg_catalog.text,
	client_addr pg_catalog.inet,
	purpose		pg_catalog.text,
	subject		pg_catalog.text,
	device		pg_catalog.text,
	similarity	pg_catalog.float8,
	detail		pg_catalog.jsonb
);
CREATE SEQUENCE @extschema@.audit_seq;

-- Record one audit event; returns its sequence number.  Callers pass names
-- (purpose, pseudonymous subject id, device), never an embedding.
CREATE FUNCTION @extschema@.audit_event(
	p_event pg_catalog.text, p_outcome pg_catalog.text,
	p_purpose pg_catalog.text DEFAULT NULL, p_subject pg_catalog.text DEFAULT NULL,
	p_device pg_catalog.text DEFAULT NULL, p_similarity pg_catalog.float8 DEFAULT NULL,
	p_sqlstate pg_catalog.text DEFAULT NULL, p_detail pg_catalog.jsonb DEFAULT NULL)
RETURNS pg_catalog.int8
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO @extschema@.audit (seq, event, outcome, sqlstate, application, client_addr,
		purpose, subject, device, similarity, detail)
	VALUES (pg_catalog.nextval('@extschema@.audit_seq'), p_event, p_outcome, p_sqlstate,
		pg_catalog.current_setting('application_name'), pg_catalog.inet_client_addr(),
		p_purpose, p_subject, p_device, p_similarity, p_detail)
	RETURNING seq;
$$;
REVOKE ALL ON FUNCTION @extschema@.audit_event(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.float8, pg_catalog.text, pg_catalog.jsonb) FROM PUBLIC;
