-- Layer 8 (jobs): the filing materials of Measures Art. 15, assembled from
-- the database.  "申请备案应当提交下列材料", item by item as the law lists them:
--   （一）个人信息处理者的基本情况      processor_basic_information:
--         frt.processor (name, contact, legal time zone, registered)
--   （二）人脸信息处理目的和处理方式    purposes_and_methods: frt.purpose
--         (description, method, 1:1 or 1:N, public-security use, the
--         non-face alternative, model dimension), the devices its faces
--         came from, termination
--   （三）人脸信息存储数量和安全保护措施 storage_scale_and_security_measures:
--         distinct people and faces stored (per purpose, minors), the
--         100,000 threshold; encryption (on, suite, key epochs), the audit
--         chain (hash, key, anchor), access control (row-level security,
--         the embedding unreadable), roles, intrusion rules (the Art. 14
--         rows of frt.compliance_report, intrusion layer included), erasure
--         (scheduled jobs, frt.erasure_log)
--   （四）人脸信息的处理规则和操作规程    processing_rules_and_operating_procedures:
--         the notice in force per purpose (every Art. 5 item), retention
--         rules, the scheduled jobs
--   （五）个人信息保护影响评估报告        impact_assessment_reports:
--         frt.assessment, the current report per purpose
-- frt.filing_materials() returns them as jsonb; frt.filing_materials_document()
-- as a Chinese Markdown document with the law's headings.

-- The processor the materials are for: the one named, or the
-- installation's sole processor.  Below superuser only the caller's own
-- (NULL: it); another processor reads as not registered.
CREATE FUNCTION @extschema@._filing_processor(p_processor pg_catalog.text)
RETURNS @extschema@.processor
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.processor;
	n pg_catalog.int8;
BEGIN
	IF NOT @extschema@._caller_is_superuser() THEN
		p_processor := COALESCE(p_processor, @extschema@._caller_processor());
		IF p_processor IS NULL OR p_processor IS DISTINCT FROM @extschema@._caller_processor() THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('processor "%s" is not registered', COALESCE(p_processor, '')), ERRCODE = 'no_data_found';
		END IF;
	END IF;
	IF p_processor IS NOT NULL THEN
		SELECT * INTO r FROM @extschema@.processor p
		WHERE p.name = p_processor AND @extschema@._processor_visible(p.name);
		IF NOT FOUND THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('processor "%s" is not registered', p_processor), ERRCODE = 'no_data_found';
		END IF;
		RETURN r;
	END IF;
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.processor;
	IF n <> 1 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('name the processor: %s are registered', n), ERRCODE = 'invalid_parameter_value',
			HINT = @extschema@._t('Register the processor first (frt.processor) or pass its name.');
	END IF;
	SELECT * INTO r FROM @extschema@.processor;
	RETURN r;
END
$$;

-- Art. 15 items (1)-(5) for one processor (NULL: the sole one), as jsonb.
-- Audited.  Nothing biometric: counts, names and settings only.
CREATE FUNCTION @extschema@.filing_materials(p_processor pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pr @extschema@.processor := @extschema@._filing_processor(p_processor);
	v_sole pg_catalog.bool := (SELECT pg_catalog.count(*) = 1 FROM @extschema@.processor);
	v_purposes pg_catalog.text[];
	fs record;
	ks record;
	ap record;
	v_alg pg_catalog.text;
	v pg_catalog.jsonb;
	v_setting pg_catalog.text := pg_catalog.current_setting('frt.processor', true);
BEGIN
	-- the processor's purposes (a purpose without one belongs to the sole processor)
	SELECT COALESCE(pg_catalog.array_agg(p.name ORDER BY p.name), '{}') INTO v_purposes
	  FROM @extschema@.purpose p WHERE p.processor = pr.name OR (p.processor IS NULL AND v_sole);
	-- filing_status() is the acting processor's: a superuser acts for this
	-- one meanwhile (anyone else acts for its own, which this is)
	IF @extschema@._caller_is_superuser() THEN
		PERFORM pg_catalog.set_config('frt.processor', pr.name, true);
	END IF;
	SELECT * INTO fs FROM @extschema@.filing_status();
	IF @extschema@._caller_is_superuser() THEN
		PERFORM pg_catalog.set_config('frt.processor', COALESCE(v_setting, ''), true);
	END IF;
	SELECT * INTO ks FROM @extschema@._key_status();
	SELECT * INTO ap FROM @extschema@.audit_protection();
	v_alg := CASE pg_catalog.current_setting('frt.audit_hash', true) WHEN 'sm3' THEN 'SM3' ELSE 'SHA-256' END;

	v := pg_catalog.jsonb_build_object(
		'law', '《人脸识别技术应用安全管理办法》第十五条',
		'generated_at', pg_catalog.now(),
		'processor', pr.name,
		'processor_basic_information', pg_catalog.jsonb_build_object(
			'item', '（一）个人信息处理者的基本情况',
			'name', pr.name, 'contact', pr.contact, 'legal_time_zone', pr.legal_time_zone,
			'registered_at', pr.registered_at, 'purposes', pg_catalog.cardinality(v_purposes)),
		'purposes_and_methods', pg_catalog.jsonb_build_object(
			'item', '（二）人脸信息处理目的和处理方式',
			'purposes', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'name', p.name, 'purpose', p.description, 'method', p.method, 'kind', p.kind,
				'serves_public_security', p.serves_public_security,
				'alternative_method', p.alternative_method, 'dimension', p.dimension,
				'devices', (SELECT pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object(
						'name', d.name, 'location_type', d.location_type, 'signage', d.signage))
					FROM @extschema@.face f JOIN @extschema@.device d ON d.processor = f.processor AND d.name = f.device
					WHERE f.purpose = p.name),
				'terminated_on', t.terminated_on) ORDER BY p.name)
				FROM @extschema@.purpose p LEFT JOIN @extschema@.purpose_termination t ON t.purpose = p.name
				WHERE p.name = ANY (v_purposes)), '[]')),
		'storage_scale_and_security_measures', pg_catalog.jsonb_build_object(
			'item', '（三）人脸信息存储数量和安全保护措施',
			'storage', pg_catalog.jsonb_build_object(
				'people_stored', (SELECT pg_catalog.count(DISTINCT f.subject) FROM @extschema@.face f
								  WHERE f.purpose = ANY (v_purposes)),
				'faces_stored', (SELECT pg_catalog.count(*) FROM @extschema@.face f WHERE f.purpose = ANY (v_purposes)),
				'minors_stored', (SELECT pg_catalog.count(DISTINCT f.subject) FROM @extschema@.face f
								  WHERE f.purpose = ANY (v_purposes) AND f.minor),
				'per_purpose', COALESCE((SELECT pg_catalog.jsonb_object_agg(x.purpose, x.people)
					FROM (SELECT f.purpose, pg_catalog.count(DISTINCT f.subject) AS people FROM @extschema@.face f
						  WHERE f.purpose = ANY (v_purposes) GROUP BY f.purpose) x), '{}'),
				'processor_people_stored', fs.stored_subjects,
				'threshold', fs.threshold, 'threshold_reached_on', fs.threshold_reached_on,
				'filing_deadline', fs.filing_deadline, 'filed_on', fs.filed_on,
				'filing_reference', fs.filing_reference, 'filing_status', fs.status,
				'storage_location', 'PostgreSQL database ' || pg_catalog.current_database()),
			'security_measures', pg_catalog.jsonb_build_object(
				'encryption', pg_catalog.jsonb_build_object(
					'enabled', COALESCE(ks.key_loaded, false), 'suite', ks.suite,
					'current_key_epoch', ks.current_epoch,
					'key_epochs', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
							'epoch', e.epoch, 'suite', e.suite, 'created_at', e.created_at, 'current', e.is_current,
							'faces', (SELECT pg_catalog.count(*) FROM @extschema@.face f
									  WHERE f.key_epoch = e.epoch AND f.purpose = ANY (v_purposes)))
						ORDER BY e.epoch)
						FROM @extschema@._key_epochs() e JOIN pg_catalog.pg_database d ON d.oid = e.owner_db
						WHERE d.datname = pg_catalog.current_database()),
					'keys_outside_database', true),
				'security_audit', pg_catalog.jsonb_build_object(
					'hash_chain', v_alg, 'keyed', ap.keyed, 'key_id', ap.key_id,
					'anchor_interval_s', ap.anchor_interval_s, 'anchor_file', ap.anchor_file,
					'anchor_command', ap.anchor_command,
					'records', (SELECT pg_catalog.count(*) FROM @extschema@.audit a
								WHERE v_sole OR COALESCE(a.detail OPERATOR(pg_catalog.->>) 'processor',
									@extschema@._purpose_processor(a.purpose)) = pr.name)),
				'access_control', pg_catalog.jsonb_build_object(
					'face_row_security', (SELECT c.relrowsecurity AND c.relforcerowsecurity FROM pg_catalog.pg_class c
										  WHERE c.oid = '@extschema@.face'::pg_catalog.regclass),
					'roles', (SELECT pg_catalog.jsonb_object_agg(r.rolname, COALESCE((SELECT pg_catalog.jsonb_agg(m.rolname ORDER BY m.rolname)
							FROM pg_catalog.pg_auth_members am JOIN pg_catalog.pg_roles m ON m.oid = am.member
							WHERE am.roleid = r.oid
							  AND @extschema@._login_processor(m.rolname) IS NOT DISTINCT FROM pr.name), '[]'))
						FROM pg_catalog.pg_roles r WHERE r.rolname LIKE 'frt\_%')),
				'checks', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('check', c.check_name,
						'status', c.status, 'detail', c.detail) ORDER BY c.check_name)
					FROM @extschema@.compliance_report() c WHERE c.article = 'Art. 14'),
				'erasure', pg_catalog.jsonb_build_object(
					'jobs', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('job', j.jobname,
							'schedule_gmt', j.schedule, 'command', j.command))
						FROM @extschema@.job_commands() j),
					'faces_erased', (SELECT pg_catalog.count(*) FROM @extschema@.erasure_log l
									 WHERE l.purpose = ANY (v_purposes)),
					'faces_erased_confirmed', (SELECT pg_catalog.count(*) FROM @extschema@.erasure_log l
									 WHERE l.purpose = ANY (v_purposes) AND l.heap_erased_at IS NOT NULL)))),
		'processing_rules_and_operating_procedures', pg_catalog.jsonb_build_object(
			'item', '（四）人脸信息的处理规则和操作规程',
			'rules', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', p.name, 'retention', p.retention, 'minor_retention', p.minor_retention,
				'similarity_threshold', p.similarity_threshold, 'max_k', p.max_k,
				'score_disclosure', p.score_disclosure,
				'notice', (SELECT pg_catalog.jsonb_build_object('version', n.version, 'published_at', n.published_at,
						'body', n.body, 'processing_method', n.processing_method,
						'retention_statement', n.retention_statement,
						'necessity_and_impact', n.necessity_and_impact,
						'rights_procedure', n.rights_procedure, 'accessibility', n.accessibility)
					FROM @extschema@.notice n WHERE n.purpose = p.name
					 AND n.version = @extschema@.current_notice_version(p.name))) ORDER BY p.name)
				FROM @extschema@.purpose p WHERE p.name = ANY (v_purposes)), '[]'),
			'procedures', pg_catalog.jsonb_build_object(
				'consent', '按处理目的逐人取得单独同意，同意对应现行告知版本；撤回同意立即生效，人脸信息随即删除',
				'minors', '不满十四周岁未成年人须由父母或者其他监护人同意，保存期限不超过该目的的未成年人保存期限',
				'requests', pg_catalog.format('个人的投诉、举报和行使权利的请求逐件登记，在%s个工作日内答复（frt.request）',
					@extschema@._request_working_days()),
				'scheduled_jobs', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('job', j.jobname,
						'schedule_gmt', j.schedule, 'command', j.command))
					FROM @extschema@.job_commands() j))),
		'impact_assessment_reports', pg_catalog.jsonb_build_object(
			'item', '（五）个人信息保护影响评估报告',
			'reports', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', a.purpose, 'id', a.id, 'assessed_at', a.assessed_at, 'assessor', a.assessor,
				'valid_until', a.valid_until, 'current', a.voided_at IS NULL
					AND (a.valid_until IS NULL OR a.valid_until >= @extschema@._filing_today()),
				'voided_at', a.voided_at, 'void_reason', a.void_reason, 'report', a.report)
				ORDER BY a.purpose, a.assessed_at DESC, a.id DESC)
				FROM @extschema@.assessment a WHERE a.purpose = ANY (v_purposes)), '[]')),
		'filings', pg_catalog.jsonb_build_object(
			'initial', pg_catalog.jsonb_build_object('filed_on', fs.filed_on, 'reference', fs.filing_reference,
				'status', fs.status, 'deadline', fs.filing_deadline),
			'changes_and_cancellations', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'kind', f.kind, 'purpose', f.purpose, 'triggered_on', f.triggered_on, 'deadline', f.deadline,
				'filed_on', f.filed_on, 'reference', f.reference) ORDER BY f.id)
				FROM @extschema@.filing f WHERE f.processor = pr.name), '[]')));
	PERFORM @extschema@.audit_event('filing_materials', 'produced', p_detail =>
		pg_catalog.jsonb_build_object('article', 'Measures Art. 15', 'processor', pr.name));
	RETURN v;
END
$$;

-- A JSON value as document text ('-' when null).
CREATE FUNCTION @extschema@._doc_text(p_value pg_catalog.jsonb)
RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_value IS NULL OR pg_catalog.jsonb_typeof(p_value) OPERATOR(pg_catalog.=) 'null' THEN '-'
		WHEN pg_catalog.jsonb_typeof(p_value) OPERATOR(pg_catalog.=) 'boolean'
			THEN CASE WHEN p_value::pg_catalog.text OPERATOR(pg_catalog.=) 'true' THEN '是' ELSE '否' END
		WHEN pg_catalog.jsonb_typeof(p_value) OPERATOR(pg_catalog.=) 'string' THEN p_value OPERATOR(pg_catalog.#>>) '{}'
		ELSE p_value::pg_catalog.text END;
$$;

-- The filing materials as a Chinese document (Markdown), headed with the
-- items of Art. 15 in the law's words.
CREATE FUNCTION @extschema@.filing_materials_document(p_processor pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m pg_catalog.jsonb := @extschema@.filing_materials(p_processor);
	b pg_catalog.jsonb;
	s pg_catalog.jsonb;
	x pg_catalog.jsonb;
	d pg_catalog.text;
BEGIN
	b := m->'processor_basic_information';
	d := pg_catalog.concat_ws(E'\n',
		'# 人脸识别技术应用备案材料', '',
		'依据《人脸识别技术应用安全管理办法》第十五条：“个人信息处理者应当在应用人脸识别技术处理的人脸信息存储数量达到10万人之日起30个工作日内向所在地省级以上网信部门履行备案手续。”本材料由数据库按该条所列五项材料生成。', '',
		'- 生成时间：' || @extschema@._doc_text(m->'generated_at'),
		'- 数据库：' || pg_catalog.current_database(), '',
		'## ' || (b->>'item'), '',
		'- 名称：' || @extschema@._doc_text(b->'name'),
		'- 联系方式：' || @extschema@._doc_text(b->'contact'),
		'- 法定日期所用时区：' || @extschema@._doc_text(b->'legal_time_zone'),
		'- 登记时间：' || @extschema@._doc_text(b->'registered_at'),
		'- 处理目的数：' || @extschema@._doc_text(b->'purposes'), '',
		'## ' || (m->'purposes_and_methods'->>'item'), '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'purposes_and_methods'->'purposes') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			'### 处理目的：' || (x->>'name'), '',
			'- 处理目的：' || @extschema@._doc_text(x->'purpose'),
			'- 处理方式：' || @extschema@._doc_text(x->'method'),
			'- 应用类型：' || CASE x->>'kind' WHEN 'verification' THEN '验证个人身份（1:1）' ELSE '辨识特定个人（1:N）' END,
			'- 为维护公共安全所必需：' || @extschema@._doc_text(x->'serves_public_security'),
			'- 非人脸识别技术的替代方式：' || @extschema@._doc_text(x->'alternative_method'),
			'- 特征向量维度（模型）：' || @extschema@._doc_text(x->'dimension'),
			'- 采集设备：' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s（%s，提示标识：%s）',
					e->>'name', e->>'location_type', @extschema@._doc_text(e->'signage')), '、')
				FROM pg_catalog.jsonb_array_elements(COALESCE(x->'devices', '[]')) e), '-'),
			'- 终止应用日期：' || @extschema@._doc_text(x->'terminated_on'), '');
	END LOOP;

	s := m->'storage_scale_and_security_measures';
	d := pg_catalog.concat_ws(E'\n', d,
		'## ' || (s->>'item'), '',
		'### 人脸信息存储数量', '',
		'- 存储人脸信息的人数（去重）：' || @extschema@._doc_text(s->'storage'->'people_stored'),
		'- 人脸信息记录数：' || @extschema@._doc_text(s->'storage'->'faces_stored'),
		'- 其中不满十四周岁未成年人人数：' || @extschema@._doc_text(s->'storage'->'minors_stored'),
		'- 各处理目的人数：' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s %s人', e.key, e.value), '；' ORDER BY e.key)
			FROM pg_catalog.jsonb_each(s->'storage'->'per_purpose') e), '-'),
		'- 本处理者存储总人数：' || @extschema@._doc_text(s->'storage'->'processor_people_stored')
			|| '（备案门槛 ' || @extschema@._doc_text(s->'storage'->'threshold') || ' 人）',
		'- 达到10万人之日：' || @extschema@._doc_text(s->'storage'->'threshold_reached_on')
			|| '；备案期限：' || @extschema@._doc_text(s->'storage'->'filing_deadline')
			|| '；备案日期：' || @extschema@._doc_text(s->'storage'->'filed_on')
			|| '；备案编号：' || @extschema@._doc_text(s->'storage'->'filing_reference'),
		'- 存储位置：' || @extschema@._doc_text(s->'storage'->'storage_location'), '',
		'### 安全保护措施', '',
		'- 数据加密：' || CASE WHEN (s->'security_measures'->'encryption'->>'enabled')::pg_catalog.bool
			THEN '已启用，算法套件 ' || @extschema@._doc_text(s->'security_measures'->'encryption'->'suite')
				|| '，当前密钥版本 ' || @extschema@._doc_text(s->'security_measures'->'encryption'->'current_key_epoch')
				|| '，密钥版本数 ' || COALESCE(pg_catalog.jsonb_array_length(s->'security_measures'->'encryption'->'key_epochs'), 0)
				|| '；根密钥保存在数据库之外'
			ELSE '未加载根密钥（录入和比对被拒绝）' END,
		'- 安全审计：哈希链（' || @extschema@._doc_text(s->'security_measures'->'security_audit'->'hash_chain')
			|| '），密钥签名：' || @extschema@._doc_text(s->'security_measures'->'security_audit'->'keyed')
			|| '，链头外存：' || CASE WHEN (s->'security_measures'->'security_audit'->>'anchor_file')::pg_catalog.bool
				OR (s->'security_measures'->'security_audit'->>'anchor_command')::pg_catalog.bool THEN '是' ELSE '仅服务器日志' END
			|| '，审计记录数 ' || @extschema@._doc_text(s->'security_measures'->'security_audit'->'records'),
		'- 访问控制：人脸表行级安全（强制）：' || @extschema@._doc_text(s->'security_measures'->'access_control'->'face_row_security')
			|| '；特征向量列任何角色不可直接读取',
		'- 授权管理（角色及成员）：' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s：%s', e.key,
				CASE WHEN pg_catalog.jsonb_array_length(e.value) = 0 THEN '无' ELSE
				(SELECT pg_catalog.string_agg(r, '、') FROM pg_catalog.jsonb_array_elements_text(e.value) r) END), '；' ORDER BY e.key)
			FROM pg_catalog.jsonb_each(s->'security_measures'->'access_control'->'roles') e), '-'),
		'- 入侵检测和防御及其他检查（第十四条）：');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(COALESCE(s->'security_measures'->'checks', '[]')) LOOP
		d := d || E'\n' || pg_catalog.format('  - %s（%s）：%s', x->>'check', x->>'status', x->>'detail');
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d,
		'- 删除：保存期限届满、撤回同意或终止应用的人脸信息由定时任务删除并覆写；已删除 '
			|| @extschema@._doc_text(s->'security_measures'->'erasure'->'faces_erased') || ' 条，其中已确认覆写 '
			|| @extschema@._doc_text(s->'security_measures'->'erasure'->'faces_erased_confirmed') || ' 条', '',
		'## ' || (m->'processing_rules_and_operating_procedures'->>'item'), '',
		'### 处理规则（向个人告知的事项）', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'processing_rules_and_operating_procedures'->'rules') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			'#### 处理目的：' || (x->>'purpose'), '',
			'- 保存期限：' || @extschema@._doc_text(x->'retention') || '；未成年人保存期限：' || @extschema@._doc_text(x->'minor_retention'),
			'- 比对阈值：' || @extschema@._doc_text(x->'similarity_threshold') || '；单次辨识最多返回：'
				|| @extschema@._doc_text(x->'max_k') || '；相似度披露方式：' || @extschema@._doc_text(x->'score_disclosure'),
			'- 告知版本：' || @extschema@._doc_text(x->'notice'->'version') || '（发布于 ' || @extschema@._doc_text(x->'notice'->'published_at') || '）',
			'- 告知正文：' || @extschema@._doc_text(x->'notice'->'body'),
			'- 处理方式：' || @extschema@._doc_text(x->'notice'->'processing_method'),
			'- 保存期限说明：' || @extschema@._doc_text(x->'notice'->'retention_statement'),
			'- 必要性及对个人权益的影响：' || @extschema@._doc_text(x->'notice'->'necessity_and_impact'),
			'- 个人行使权利的方式和程序：' || @extschema@._doc_text(x->'notice'->'rights_procedure'),
			'- 无障碍说明：' || @extschema@._doc_text(x->'notice'->'accessibility'), '');
	END LOOP;
	x := m->'processing_rules_and_operating_procedures'->'procedures';
	d := pg_catalog.concat_ws(E'\n', d,
		'### 操作规程', '',
		'- 同意：' || (x->>'consent'),
		'- 未成年人：' || (x->>'minors'),
		'- 投诉、举报和个人请求：' || (x->>'requests'),
		'- 定时任务（cron 表达式为格林尼治时间，北京时间为其加8小时）：'
			|| COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s `%s`', j->>'job', j->>'schedule_gmt'), '；')
				FROM pg_catalog.jsonb_array_elements(x->'scheduled_jobs') j), '-'), '',
		'## ' || (m->'impact_assessment_reports'->>'item'), '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'impact_assessment_reports'->'reports') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			pg_catalog.format('### 处理目的：%s（评估编号 %s，%s）', x->>'purpose', x->>'id',
				CASE WHEN (x->>'current')::pg_catalog.bool THEN '现行有效' ELSE '已失效' END), '',
			'- 评估时间：' || @extschema@._doc_text(x->'assessed_at') || '；评估人：' || @extschema@._doc_text(x->'assessor')
				|| '；有效期至：' || @extschema@._doc_text(x->'valid_until'),
			CASE WHEN x->>'voided_at' IS NOT NULL THEN '- 失效原因：' || (x->>'void_reason') END,
			'- 报告：' || @extschema@._doc_text(x->'report'), '');
	END LOOP;
	IF pg_catalog.jsonb_array_length(m->'impact_assessment_reports'->'reports') = 0 THEN
		d := d || E'\n（无）\n';
	END IF;
	d := pg_catalog.concat_ws(E'\n', d,
		'## 备案记录', '',
		'- 首次备案：' || @extschema@._doc_text(m->'filings'->'initial'->'filed_on') || '，编号 '
			|| @extschema@._doc_text(m->'filings'->'initial'->'reference') || '，状态 '
			|| CASE m->'filings'->'initial'->>'status' WHEN 'filed' THEN '已备案' WHEN 'due' THEN '应备案'
				WHEN 'overdue' THEN '逾期未备案' WHEN 'not required' THEN '未达到10万人，无需备案'
				ELSE @extschema@._doc_text(m->'filings'->'initial'->'status') END);
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'filings'->'changes_and_cancellations') LOOP
		d := d || E'\n' || pg_catalog.format('- %s：%s，变更/终止之日 %s，期限 %s，办理日期 %s，编号 %s',
			CASE x->>'kind' WHEN 'change' THEN '备案变更' ELSE '注销备案' END,
			COALESCE(x->>'purpose', '全部'), x->>'triggered_on', x->>'deadline',
			@extschema@._doc_text(x->'filed_on'), @extschema@._doc_text(x->'reference'));
	END LOOP;
	RETURN d || E'\n';
END
$$;

REVOKE ALL ON FUNCTION @extschema@._filing_processor(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.filing_materials(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._doc_text(pg_catalog.jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.filing_materials_document(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.filing_materials(pg_catalog.text) TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.filing_materials_document(pg_catalog.text) TO frt_admin, frt_auditor;
