-- Messages in the caller's language (lc_messages), from the catalogue
-- po/<lang>.po (src/audit/messages.c, docs/translation.md).  Every message,
-- detail and hint of the governance SQL is written
-- @extschema@._t(<template>, args...): format() of the translated template.

-- format(template, ...) with the template translated.
CREATE FUNCTION @extschema@._t(pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_t';
CREATE FUNCTION @extschema@._t(pg_catalog.text, VARIADIC "any") RETURNS pg_catalog.text
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_t';
-- The English of a message _t() translated lately in this session (what the
-- audit trail records), else the message itself.
CREATE FUNCTION @extschema@._t_source(pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'frt_t_source';
-- The citation a refusal ends with: " (Measures Art. N<more>)", translated.
CREATE FUNCTION @extschema@._cite(pg_catalog.int4, pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_cite';
REVOKE ALL ON FUNCTION @extschema@._t(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._t(pg_catalog.text, VARIADIC "any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._t_source(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._cite(pg_catalog.int4, pg_catalog.text) FROM PUBLIC;
