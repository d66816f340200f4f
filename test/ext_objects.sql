-- The SQL objects of the extensions frt and frt_governance as one sorted
-- list of lines "<extension> | <object> | <definition>", so two databases can
-- be compared: one where the extensions were updated from an older release
-- (ALTER EXTENSION ... UPDATE) and one where they were created fresh at the
-- current version.  Any difference means an upgrade script is missing or
-- incomplete.  Used by test/t/070_upgrade.pl (and so by scripts/release.sh).
--
-- Definitions are the catalogs' own renderings (pg_get_functiondef,
-- pg_get_viewdef, pg_get_constraintdef, ...), privileges as sorted aclitems.
-- A table's columns are compared by name, not position: ALTER TABLE ... ADD
-- COLUMN in an upgrade script can only append.  Newlines in a definition are
-- written as \n so that each line of the result is one fact.
WITH ext AS (
	SELECT oid, extname FROM pg_catalog.pg_extension
	 WHERE extname OPERATOR(pg_catalog.=) ANY (ARRAY['frt', 'frt_governance'])
), member AS (
	SELECT e.extname, d.classid, d.objid,
		   pg_catalog.pg_describe_object(d.classid, d.objid, 0) AS obj
	  FROM pg_catalog.pg_depend d JOIN ext e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
	 WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
	   AND d.deptype OPERATOR(pg_catalog.=) 'e'
), rel AS (
	SELECT m.extname, m.obj, c.* FROM member m
	  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
	UNION ALL	-- a composite type's attributes live in its pg_class row
	SELECT m.extname, m.obj, c.* FROM member m
	  JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) m.objid
	  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.typrelid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
	   AND c.relkind OPERATOR(pg_catalog.=) 'c'
), fact (extname, obj, def) AS (
	-- every member object, with its owner where it has one
	SELECT extname, obj, 'member' FROM member
	UNION ALL
	-- functions and procedures: the whole CREATE statement; owner and privileges
	SELECT m.extname, m.obj, pg_catalog.pg_get_functiondef(p.oid)
	  FROM member m JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
	   AND p.prokind OPERATOR(pg_catalog.<>) 'a'
	UNION ALL
	SELECT m.extname, m.obj,
		   'owner=' || p.proowner::pg_catalog.regrole::pg_catalog.text
		   || ' acl=' || coalesce((SELECT pg_catalog.string_agg(a::pg_catalog.text, ',' ORDER BY a::pg_catalog.text)
									 FROM pg_catalog.unnest(p.proacl) a), '-')
	  FROM member m JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
	UNION ALL
	SELECT m.extname, m.obj,
		   pg_catalog.concat_ws(' ', 'kind=' || a.aggkind::pg_catalog.text, 'sfunc=' || a.aggtransfn::pg_catalog.text,
			   'stype=' || pg_catalog.format_type(a.aggtranstype, NULL),
			   'final=' || a.aggfinalfn::pg_catalog.text, 'combine=' || a.aggcombinefn::pg_catalog.text,
			   'serial=' || a.aggserialfn::pg_catalog.text, 'deserial=' || a.aggdeserialfn::pg_catalog.text,
			   'minv=' || a.aggminvtransfn::pg_catalog.text, 'sort=' || a.aggsortop::pg_catalog.regoperator::pg_catalog.text,
			   'init=' || coalesce(a.agginitval, '-'), 'parallel=' || p.proparallel::pg_catalog.text)
	  FROM member m JOIN pg_catalog.pg_aggregate a ON a.aggfnoid OPERATOR(pg_catalog.=) m.objid
	  JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) a.aggfnoid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
	UNION ALL
	-- relations: kind, security, options, privileges, view text, sequence parameters
	SELECT r.extname, r.obj,
		   pg_catalog.concat_ws(' ', 'kind=' || r.relkind::pg_catalog.text, 'persistence=' || r.relpersistence::pg_catalog.text,
			   'rls=' || r.relrowsecurity, 'force_rls=' || r.relforcerowsecurity,
			   'owner=' || r.relowner::pg_catalog.regrole::pg_catalog.text,
			   'options=' || (SELECT pg_catalog.string_agg(o, ',' ORDER BY o) FROM pg_catalog.unnest(r.reloptions) o),
			   'acl=' || coalesce((SELECT pg_catalog.string_agg(a::pg_catalog.text, ',' ORDER BY a::pg_catalog.text)
									 FROM pg_catalog.unnest(r.relacl) a), '-'),
			   'view=' || CASE WHEN r.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['v', 'm']::pg_catalog."char"[])
							   THEN pg_catalog.pg_get_viewdef(r.oid) END,
			   'sequence=' || (SELECT pg_catalog.concat_ws(',', pg_catalog.format_type(s.seqtypid, NULL), s.seqstart,
										 s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle)
								 FROM pg_catalog.pg_sequence s WHERE s.seqrelid OPERATOR(pg_catalog.=) r.oid))
	  FROM rel r
	UNION ALL
	-- columns, by name
	SELECT r.extname, r.obj || ' column ' || pg_catalog.quote_ident(a.attname),
		   pg_catalog.concat_ws(' ', pg_catalog.format_type(a.atttypid, a.atttypmod),
			   CASE WHEN a.attnotnull THEN 'not null' END,
			   'default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid),
			   'identity=' || NULLIF(a.attidentity::pg_catalog.text, ''), 'generated=' || NULLIF(a.attgenerated::pg_catalog.text, ''),
			   'collation=' || CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) 0
									THEN a.attcollation::pg_catalog.regcollation::pg_catalog.text END,
			   'acl=' || (SELECT pg_catalog.string_agg(x::pg_catalog.text, ',' ORDER BY x::pg_catalog.text)
							FROM pg_catalog.unnest(a.attacl) x),
			   'owned_sequence=' || (SELECT pg_catalog.string_agg(d.objid::pg_catalog.regclass::pg_catalog.text, ',')
									   FROM pg_catalog.pg_depend d
									   JOIN pg_catalog.pg_class s ON s.oid OPERATOR(pg_catalog.=) d.objid
											AND s.relkind OPERATOR(pg_catalog.=) 'S'
									  WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
										AND d.refobjid OPERATOR(pg_catalog.=) r.oid
										AND d.refobjsubid OPERATOR(pg_catalog.=) a.attnum
										AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
										AND d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['a', 'i']::pg_catalog."char"[])))
	  FROM rel r JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) r.oid
	  LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid OPERATOR(pg_catalog.=) r.oid
		   AND ad.adnum OPERATOR(pg_catalog.=) a.attnum
	 WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	   AND r.relkind OPERATOR(pg_catalog.<>) 'S'
	UNION ALL
	-- constraints, indexes, triggers, policies and rules of member relations
	SELECT r.extname, r.obj || ' constraint ' || pg_catalog.quote_ident(c.conname),
		   pg_catalog.pg_get_constraintdef(c.oid)
		   || CASE WHEN c.condeferrable THEN ' deferrable' ELSE '' END
		   || CASE WHEN c.condeferred THEN ' deferred' ELSE '' END
	  FROM rel r JOIN pg_catalog.pg_constraint c ON c.conrelid OPERATOR(pg_catalog.=) r.oid
	UNION ALL
	SELECT r.extname, 'index ' || i.indexrelid::pg_catalog.regclass::pg_catalog.text,
		   pg_catalog.pg_get_indexdef(i.indexrelid)
	  FROM rel r JOIN pg_catalog.pg_index i ON i.indrelid OPERATOR(pg_catalog.=) r.oid
	UNION ALL
	SELECT r.extname, r.obj || ' trigger ' || pg_catalog.quote_ident(t.tgname),
		   pg_catalog.pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::pg_catalog.text
	  FROM rel r JOIN pg_catalog.pg_trigger t ON t.tgrelid OPERATOR(pg_catalog.=) r.oid
	 WHERE NOT t.tgisinternal
	UNION ALL
	SELECT r.extname, r.obj || ' policy ' || pg_catalog.quote_ident(p.polname),
		   pg_catalog.concat_ws(' ', 'cmd=' || p.polcmd::pg_catalog.text, 'permissive=' || p.polpermissive,
			   'roles=' || (SELECT pg_catalog.string_agg(CASE WHEN x OPERATOR(pg_catalog.=) 0 THEN 'public'
															  ELSE x::pg_catalog.regrole::pg_catalog.text END,
														 ',' ORDER BY 1)
							  FROM pg_catalog.unnest(p.polroles) x),
			   'using=' || pg_catalog.pg_get_expr(p.polqual, p.polrelid),
			   'check=' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))
	  FROM rel r JOIN pg_catalog.pg_policy p ON p.polrelid OPERATOR(pg_catalog.=) r.oid
	UNION ALL
	SELECT r.extname, r.obj || ' rule ' || pg_catalog.quote_ident(w.rulename), pg_catalog.pg_get_ruledef(w.oid)
	  FROM rel r JOIN pg_catalog.pg_rewrite w ON w.ev_class OPERATOR(pg_catalog.=) r.oid
	 WHERE w.rulename OPERATOR(pg_catalog.<>) '_RETURN'
	UNION ALL
	-- types: I/O functions and storage, enum labels in order, domain constraints
	SELECT m.extname, m.obj,
		   pg_catalog.concat_ws(' ', 'type=' || t.typtype::pg_catalog.text, 'len=' || t.typlen, 'byval=' || t.typbyval,
			   'align=' || t.typalign::pg_catalog.text, 'storage=' || t.typstorage::pg_catalog.text, 'category=' || t.typcategory::pg_catalog.text,
			   'in=' || t.typinput::pg_catalog.text, 'out=' || t.typoutput::pg_catalog.text,
			   'recv=' || t.typreceive::pg_catalog.text, 'send=' || t.typsend::pg_catalog.text,
			   'modin=' || t.typmodin::pg_catalog.text, 'modout=' || t.typmodout::pg_catalog.text,
			   'analyze=' || t.typanalyze::pg_catalog.text, 'subscript=' || t.typsubscript::pg_catalog.text,
			   'base=' || CASE WHEN t.typbasetype OPERATOR(pg_catalog.<>) 0
							   THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END,
			   'notnull=' || t.typnotnull, 'default=' || t.typdefault,
			   'owner=' || t.typowner::pg_catalog.regrole::pg_catalog.text,
			   'acl=' || (SELECT pg_catalog.string_agg(a::pg_catalog.text, ',' ORDER BY a::pg_catalog.text)
							FROM pg_catalog.unnest(t.typacl) a),
			   'labels=' || (SELECT pg_catalog.string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
							   FROM pg_catalog.pg_enum e WHERE e.enumtypid OPERATOR(pg_catalog.=) t.oid),
			   'checks=' || (SELECT pg_catalog.string_agg(c.conname || ' ' || pg_catalog.pg_get_constraintdef(c.oid),
														  ',' ORDER BY c.conname)
							   FROM pg_catalog.pg_constraint c WHERE c.contypid OPERATOR(pg_catalog.=) t.oid))
	  FROM member m JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
	UNION ALL
	SELECT m.extname, m.obj,
		   pg_catalog.concat_ws(' ', 'result=' || o.oprresult::pg_catalog.regtype::pg_catalog.text,
			   'code=' || o.oprcode::pg_catalog.text,
			   'commutator=' || NULLIF(o.oprcom, 0)::pg_catalog.regoperator::pg_catalog.text,
			   'negator=' || NULLIF(o.oprnegate, 0)::pg_catalog.regoperator::pg_catalog.text,
			   'restrict=' || o.oprrest::pg_catalog.text, 'join=' || o.oprjoin::pg_catalog.text,
			   'merges=' || o.oprcanmerge, 'hashes=' || o.oprcanhash)
	  FROM member m JOIN pg_catalog.pg_operator o ON o.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass
	UNION ALL
	-- operator classes and the operators and support functions of their families
	SELECT m.extname, m.obj,
		   pg_catalog.concat_ws(' ', 'default=' || c.opcdefault, 'keytype=' || NULLIF(c.opckeytype, 0)::pg_catalog.regtype::pg_catalog.text,
			   'family=' || pg_catalog.pg_describe_object('pg_catalog.pg_opfamily'::pg_catalog.regclass, c.opcfamily, 0))
	  FROM member m JOIN pg_catalog.pg_opclass c ON c.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_opclass'::pg_catalog.regclass
	UNION ALL
	SELECT m.extname, pg_catalog.pg_describe_object('pg_catalog.pg_amop'::pg_catalog.regclass, ao.oid, 0),
		   pg_catalog.concat_ws(' ', 'purpose=' || ao.amoppurpose::pg_catalog.text,
			   'sortfamily=' || CASE WHEN ao.amopsortfamily OPERATOR(pg_catalog.<>) 0
									 THEN pg_catalog.pg_describe_object('pg_catalog.pg_opfamily'::pg_catalog.regclass,
																		ao.amopsortfamily, 0) END)
	  FROM member m JOIN pg_catalog.pg_opclass c ON c.oid OPERATOR(pg_catalog.=) m.objid
	  JOIN pg_catalog.pg_amop ao ON ao.amopfamily OPERATOR(pg_catalog.=) c.opcfamily
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_opclass'::pg_catalog.regclass
	UNION ALL
	SELECT m.extname, pg_catalog.pg_describe_object('pg_catalog.pg_amproc'::pg_catalog.regclass, ap.oid, 0), 'support'
	  FROM member m JOIN pg_catalog.pg_opclass c ON c.oid OPERATOR(pg_catalog.=) m.objid
	  JOIN pg_catalog.pg_amproc ap ON ap.amprocfamily OPERATOR(pg_catalog.=) c.opcfamily
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_opclass'::pg_catalog.regclass
	UNION ALL
	SELECT m.extname, m.obj, 'type=' || a.amtype::pg_catalog.text || ' handler=' || a.amhandler::pg_catalog.text
	  FROM member m JOIN pg_catalog.pg_am a ON a.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_am'::pg_catalog.regclass
	UNION ALL
	SELECT m.extname, m.obj,
		   pg_catalog.concat_ws(' ', 'function=' || NULLIF(c.castfunc, 0)::pg_catalog.regprocedure::pg_catalog.text,
			   'context=' || c.castcontext::pg_catalog.text, 'method=' || c.castmethod::pg_catalog.text)
	  FROM member m JOIN pg_catalog.pg_cast c ON c.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_cast'::pg_catalog.regclass
	UNION ALL
	SELECT m.extname, m.obj,
		   pg_catalog.concat_ws(' ', 'event=' || e.evtevent, 'function=' || e.evtfoid::pg_catalog.regproc::pg_catalog.text,
			   'enabled=' || e.evtenabled::pg_catalog.text, 'tags=' || pg_catalog.array_to_string(e.evttags, ','),
			   'owner=' || e.evtowner::pg_catalog.regrole::pg_catalog.text)
	  FROM member m JOIN pg_catalog.pg_event_trigger e ON e.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_event_trigger'::pg_catalog.regclass
	UNION ALL
	SELECT m.extname, m.obj,
		   'owner=' || n.nspowner::pg_catalog.regrole::pg_catalog.text || ' acl='
		   || coalesce((SELECT pg_catalog.string_agg(a::pg_catalog.text, ',' ORDER BY a::pg_catalog.text)
						  FROM pg_catalog.unnest(n.nspacl) a), '-')
	  FROM member m JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) m.objid
	 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
	UNION ALL
	-- the extensions' schema (not a member: it outlives them), its owner and privileges
	SELECT e.extname, 'schema ' || pg_catalog.quote_ident(n.nspname),
		   'owner=' || n.nspowner::pg_catalog.regrole::pg_catalog.text || ' acl='
		   || coalesce((SELECT pg_catalog.string_agg(a::pg_catalog.text, ',' ORDER BY a::pg_catalog.text)
						  FROM pg_catalog.unnest(n.nspacl) a), '-')
	  FROM ext e JOIN pg_catalog.pg_extension x ON x.oid OPERATOR(pg_catalog.=) e.oid
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
	UNION ALL
	-- comments on member objects and on their columns
	SELECT m.extname, pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid), 'comment ' || d.description
	  FROM member m JOIN pg_catalog.pg_description d ON d.classoid OPERATOR(pg_catalog.=) m.classid
		   AND d.objoid OPERATOR(pg_catalog.=) m.objid
	UNION ALL
	-- privileges as the extension's scripts left them (what pg_dump compares against)
	SELECT m.extname, pg_catalog.pg_describe_object(i.classoid, i.objoid, i.objsubid),
		   'initial acl=' || (SELECT pg_catalog.string_agg(a::pg_catalog.text, ',' ORDER BY a::pg_catalog.text)
								FROM pg_catalog.unnest(i.initprivs) a)
	  FROM member m JOIN pg_catalog.pg_init_privs i ON i.classoid OPERATOR(pg_catalog.=) m.classid
		   AND i.objoid OPERATOR(pg_catalog.=) m.objid
	UNION ALL
	-- configuration tables (dumped with their data) and their filters
	SELECT e.extname, 'configuration table ' || c.tbl::pg_catalog.regclass::pg_catalog.text,
		   coalesce(NULLIF(c.cond, ''), 'all rows')
	  FROM pg_catalog.pg_extension e,
		   LATERAL ROWS FROM (pg_catalog.unnest(e.extconfig), pg_catalog.unnest(e.extcondition)) c(tbl, cond)
	 WHERE e.extname OPERATOR(pg_catalog.=) ANY (ARRAY['frt', 'frt_governance'])
)
SELECT pg_catalog.concat_ws(' | ', extname, obj,
		   pg_catalog.replace(pg_catalog.replace(def, E'\r', ''), E'\n', '\n'))
  FROM fact
 ORDER BY 1;
