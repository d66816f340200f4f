-- Layer 8 (jobs): the person's side of the Measures.
--
-- Art. 17: anyone may complain about or report unlawful face processing.
-- The authorities handle those sent to them; a processor keeps its own
-- register of the complaints, reports and requests it receives, with the
-- answer and the dates (PIPL Art. 50: a convenient way to receive and
-- handle persons' requests; the reason for a refusal is given).
--   frt.request             the register (read by frt_admin, frt_auditor)
--   frt.record_request()    a complaint, report or request received
--   frt.update_request()    in progress, answered, closed or rejected
-- Deadline: 15 working days from receipt (frt._request_working_days()).
-- PIPL Art. 50 says only "promptly" (及时); GB/T 35273-2020 §8.7 allows 30
-- days for answering a person's request; the shorter limit regulators
-- apply to complaints and reports about personal information (a
-- processor's promise may not exceed 15 working days:
-- 《App违法违规收集使用个人信息行为认定方法》, 国信办秘字〔2019〕191号)
-- is used for every kind.  frt.filing_check() (daily) alerts about every
-- overdue one; the compliance report counts them.
--
-- frt.subject_report(subject) answers a person who asks what is held about
-- them (PIPL Art. 44, 45): consents, the notices shown, face metadata,
-- processing history and erasure evidence; never a biometric value.

CREATE SEQUENCE @extschema@.request_id_seq;
CREATE TABLE @extschema@.request (
	id			pg_catalog.int8 PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.request_id_seq'),
	-- complaint (投诉), report (举报), or a request exercising a right
	kind		pg_catalog.text NOT NULL CHECK (kind IN ('complaint', 'report', 'access', 'copy',
		'correction', 'deletion', 'withdrawal', 'explanation', 'other')),
	channel		pg_catalog.text NOT NULL CHECK (channel IN ('in_person', 'phone', 'email', 'web',
		'letter', 'regulator', 'other')),
	received_on pg_catalog.date NOT NULL,
	subject		pg_catalog.text,	-- the pseudonymous subject concerned, when known
	purpose		pg_catalog.text,	-- the purpose concerned, when known
	summary		pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(summary) <> ''),
	deadline	pg_catalog.date NOT NULL,
	status		pg_catalog.text NOT NULL DEFAULT 'received'
		CHECK (status IN ('received', 'in_progress', 'answered', 'closed', 'rejected')),
	answered_on pg_catalog.date,
	answer		pg_catalog.text,
	closed_on	pg_catalog.date,
	recorded_by pg_catalog.text NOT NULL,
	updated_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- the processor the request was made to (its purpose's, else the recorder's)
	processor	pg_catalog.text NOT NULL DEFAULT @extschema@._acting_processor()
		REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	CHECK (deadline >= received_on),
	CHECK ((answered_on IS NULL) = (answer IS NULL)),
	CHECK (status NOT IN ('answered', 'closed', 'rejected') OR answer IS NOT NULL),
	CHECK ((status IN ('closed', 'rejected')) = (closed_on IS NOT NULL))
);
ALTER SEQUENCE @extschema@.request_id_seq OWNED BY @extschema@.request.id;
CREATE INDEX request_subject_idx ON @extschema@.request (processor, subject);
COMMENT ON TABLE @extschema@.request IS
	'complaints, reports and requests of persons, with their handling and deadlines (Measures Art. 17; PIPL Art. 50)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.request', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.request_id_seq', '');

-- Working days allowed to answer a complaint, report or request (see above).
CREATE FUNCTION @extschema@._request_working_days()
RETURNS pg_catalog.int4
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 15 $$;

-- Record a complaint, report or request received; returns its id.  The
-- deadline is 15 working days after p_received_on (a legal date).  The
-- request is the processor's of the purpose, else the caller's; below
-- superuser another processor's purpose or subject reads as not
-- registered.
CREATE FUNCTION @extschema@.record_request(p_kind pg_catalog.text, p_channel pg_catalog.text,
	p_summary pg_catalog.text, p_subject pg_catalog.text DEFAULT NULL,
	p_purpose pg_catalog.text DEFAULT NULL,
	p_received_on pg_catalog.date DEFAULT @extschema@._filing_today())
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id pg_catalog.int8;
	v_deadline pg_catalog.date;
	v_proc pg_catalog.text;
BEGIN
	IF p_received_on IS NULL OR p_received_on > @extschema@._filing_today() THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('the day received must be today or earlier'), ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_purpose IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.purpose p WHERE p.name = p_purpose
											 AND @extschema@._processor_visible(p.processor)) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('purpose "%s" is not registered', p_purpose), ERRCODE = 'foreign_key_violation';
	END IF;
	v_proc := COALESCE(@extschema@._purpose_processor(p_purpose), @extschema@._acting_processor());
	IF v_proc IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('the caller acts for no processor'), ERRCODE = 'insufficient_privilege';
	END IF;
	IF p_subject IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.subject s
											 WHERE s.processor = v_proc AND s.id = p_subject) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('subject "%s" is not registered', p_subject), ERRCODE = 'foreign_key_violation',
			HINT = @extschema@._t('Record the request without a subject, and name the person in the summary only as far as needed.');
	END IF;
	v_deadline := @extschema@.working_days_after(p_received_on, @extschema@._request_working_days());
	INSERT INTO @extschema@.request (kind, channel, received_on, subject, purpose, summary, deadline, recorded_by,
		processor)
	VALUES (p_kind, p_channel, p_received_on, p_subject, p_purpose, p_summary, v_deadline, @extschema@._caller(),
		v_proc)
	RETURNING id INTO v_id;
	PERFORM @extschema@.audit_event('request', 'received', p_purpose, p_subject, p_detail =>
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('article', 'Measures Art. 17', 'id', v_id, 'kind', p_kind,
			'channel', p_channel, 'received_on', p_received_on, 'deadline', v_deadline),
			CASE WHEN @extschema@._processor_count() > 1 THEN v_proc END));
	RETURN v_id;
END
$$;

-- Move a request on: in_progress, answered (with the answer given),
-- closed or rejected (an answer, or the reason, is required).  A closed or
-- rejected request does not reopen.
CREATE FUNCTION @extschema@.update_request(p_id pg_catalog.int8, p_status pg_catalog.text,
	p_answer pg_catalog.text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.request;
	v_today pg_catalog.date := @extschema@._filing_today();
BEGIN
	-- another processor's request reads as no request
	SELECT * INTO r FROM @extschema@.request q
	 WHERE q.id = p_id AND @extschema@._processor_visible(q.processor) FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('no request %s', p_id), ERRCODE = 'no_data_found';
	END IF;
	IF r.status IN ('closed', 'rejected') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('request %s is already %s', p_id, r.status), ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_status IS NULL OR p_status NOT IN ('in_progress', 'answered', 'closed', 'rejected') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('status must be in_progress, answered, closed or rejected, not %s', COALESCE(p_status, 'NULL')),
			ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_status IN ('answered', 'rejected') AND (p_answer IS NULL OR pg_catalog.btrim(p_answer) = '') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('an answered or rejected request records the answer or the reason given'),
			ERRCODE = 'null_value_not_allowed';
	END IF;
	IF p_status = 'closed' AND r.answer IS NULL AND (p_answer IS NULL OR pg_catalog.btrim(p_answer) = '') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('a request closes once answered: give the answer'),
			ERRCODE = 'null_value_not_allowed';
	END IF;
	UPDATE @extschema@.request q SET
		status = p_status,
		answer = COALESCE(NULLIF(pg_catalog.btrim(p_answer), ''), q.answer),
		answered_on = CASE WHEN NULLIF(pg_catalog.btrim(p_answer), '') IS NOT NULL THEN v_today ELSE q.answered_on END,
		closed_on = CASE WHEN p_status IN ('closed', 'rejected') THEN v_today END,
		updated_at = pg_catalog.now()
	 WHERE q.id = p_id;
	PERFORM @extschema@.audit_event('request', p_status, r.purpose, r.subject, p_detail =>
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('article', 'Measures Art. 17', 'id', p_id,
			'kind', r.kind, 'deadline', r.deadline, 'late', v_today > r.deadline AND r.answered_on IS NULL),
			CASE WHEN @extschema@._processor_count() > 1 THEN r.processor END));
END
$$;

-- Open (not yet answered) requests past their deadline.
CREATE FUNCTION @extschema@._requests_overdue()
RETURNS SETOF @extschema@.request
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.request q
	 WHERE q.answered_on IS NULL AND q.closed_on IS NULL
	   AND q.deadline OPERATOR(pg_catalog.<) @extschema@._filing_today()
	   AND @extschema@._processor_visible(q.processor)
	 ORDER BY q.deadline, q.id;
$$;

-- Alert once per overdue request (daily, from frt.filing_check).
CREATE FUNCTION @extschema@._requests_alert()
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM @extschema@._requests_overdue() LOOP
		PERFORM @extschema@._jobs_alert('request_overdue', r.purpose, @extschema@._tenant_detail(
			pg_catalog.jsonb_build_object('article', 'Measures Art. 17', 'id', r.id, 'kind', r.kind,
			'received_on', r.received_on, 'deadline', r.deadline, 'working_days_late',
			@extschema@.working_days_between(r.deadline, @extschema@._filing_today())),
			CASE WHEN @extschema@._processor_count() > 1 THEN r.processor END));
	END LOOP;
END
$$;

-- Registry's compliance_checks point: the Art. 17 row requests_answered.
CREATE FUNCTION @extschema@._rights_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n pg_catalog.int8;
	m pg_catalog.int8;
	v_list pg_catalog.text;
BEGIN
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.request q
	 WHERE q.answered_on IS NULL AND q.closed_on IS NULL AND @extschema@._processor_visible(q.processor);
	SELECT pg_catalog.count(*), pg_catalog.string_agg(@extschema@._t('#%s %s due %s', o.id, o.kind, o.deadline), ', ')
	  INTO m, v_list FROM @extschema@._requests_overdue() o;
	RETURN QUERY SELECT 'Art. 17', 'requests_answered',
		CASE WHEN m > 0 THEN 'violation' WHEN n > 0 THEN 'warning' ELSE 'ok' END,
		@extschema@._t('%s complaints, reports and requests of persons awaiting an answer (%s working days each), %s overdue%s',
			n, @extschema@._request_working_days(), m, COALESCE(': ' || v_list, ''));
END
$$;
SELECT @extschema@._hook_register('compliance_checks', '_rights_compliance', 'jobs');

-- What is held about one person (PIPL Art. 44, 45): the subject record,
-- consents with the notice shown (version and text), faces held (metadata,
-- never the embedding), declines, processing history from the audit trail
-- (events about this subject only, without scores or details), erasure
-- evidence (frt.erasure_report) and the person's requests.  Audited.  The
-- subject is the caller's processor's (a superuser's: frt.processor, else
-- the first processor); another processor's subject of the same id reads
-- as not registered, and nothing of another processor is shown.
CREATE FUNCTION @extschema@.subject_report(p_subject pg_catalog.text)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s @extschema@.subject;
	v pg_catalog.jsonb;
	v_proc pg_catalog.text := @extschema@._acting_processor();
	v_sole pg_catalog.bool := @extschema@._processor_count() <= 1;
BEGIN
	IF p_subject IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('subject must not be null'), ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO s FROM @extschema@.subject x WHERE x.processor = v_proc AND x.id = p_subject;
	IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM @extschema@.erasure_log l JOIN @extschema@.purpose p ON p.name = l.purpose
								 WHERE l.subject = p_subject AND p.processor = v_proc) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('subject "%s" is not registered', p_subject), ERRCODE = 'no_data_found';
	END IF;
	v := pg_catalog.jsonb_build_object(
		'subject', p_subject,
		'generated_at', pg_catalog.now(),
		'legal_basis', 'PIPL Art. 44, 45; Measures Art. 5, 6, 17',
		'registered', CASE WHEN s.id IS NOT NULL THEN pg_catalog.jsonb_build_object(
			'birth_date', s.birth_date, 'created_at', s.created_at) END,
		'consents', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'id', c.id, 'purpose', c.purpose, 'processor', pr.name,
				'processor_contact', pr.contact, 'given_by', c.given_by,
				'obtained_how', c.obtained_how, 'separate', c.separate,
				'condition_of_service', c.condition_of_service, 'transfer_consent', c.transfer_consent,
				'given_at', c.given_at, 'renewed_at', c.renewed_at, 'withdrawn_at', c.withdrawn_at,
				'needs_renotice', c.needs_renotice,
				'notice', pg_catalog.jsonb_build_object('version', n.version, 'published_at', n.published_at,
					'body', n.body, 'processing_method', n.processing_method,
					'retention_statement', n.retention_statement,
					'necessity_and_impact', n.necessity_and_impact,
					'rights_procedure', n.rights_procedure, 'accessibility', n.accessibility))
				ORDER BY c.given_at, c.id)
			FROM @extschema@.consent c
			JOIN @extschema@.notice n ON n.purpose = c.purpose AND n.version = c.notice_version
			LEFT JOIN @extschema@.processor pr ON pr.name = c.processor
			WHERE c.processor = v_proc AND c.subject = p_subject), '[]'),
		'faces', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'id', f.id, 'purpose', f.purpose, 'device', f.device, 'minor', f.minor,
				'enrolled_at', f.enrolled_at, 'expires_at', f.expires_at,
				'stored_as', 'encrypted feature vector (not shown)') ORDER BY f.id)
			FROM @extschema@.face f WHERE f.processor = v_proc AND f.subject = p_subject), '[]'),
		'declines', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', d.purpose, 'device', d.device, 'declined_at', d.declined_at) ORDER BY d.id)
			FROM @extschema@.decline d WHERE d.processor = v_proc AND d.subject = p_subject), '[]'),
		'processing_history', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'seq', a.seq, 'at', a.at, 'event', a.event, 'outcome', a.outcome,
				'purpose', a.purpose, 'device', a.device, 'sqlstate', a.sqlstate) ORDER BY a.seq)
			FROM @extschema@.audit a WHERE a.subject = p_subject
			 AND (v_sole OR COALESCE(a.detail OPERATOR(pg_catalog.->>) 'processor',
				@extschema@._purpose_processor(a.purpose)) = v_proc)), '[]'),
		'erasure', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(e) ORDER BY e.face_id)
			FROM @extschema@.erasure_report(p_subject) e WHERE @extschema@._purpose_visible(e.purpose)), '[]'),
		'requests', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'id', q.id, 'kind', q.kind, 'channel', q.channel, 'received_on', q.received_on,
				'status', q.status, 'deadline', q.deadline, 'answered_on', q.answered_on,
				'answer', q.answer, 'closed_on', q.closed_on) ORDER BY q.id)
			FROM @extschema@.request q WHERE q.processor = v_proc AND q.subject = p_subject), '[]'));
	PERFORM @extschema@.audit_event('subject_report', 'ok', NULL, p_subject, p_detail =>
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('article', 'Measures Art. 17',
			'caller', @extschema@._caller()), CASE WHEN NOT v_sole THEN v_proc END));
	RETURN v;
END
$$;

-- The subject report as a Chinese document (Markdown) to hand to the
-- person: the same content as frt.subject_report (audited the same way).
CREATE FUNCTION @extschema@.subject_report_document(p_subject pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r pg_catalog.jsonb := @extschema@.subject_report(p_subject);
	x pg_catalog.jsonb;
	d pg_catalog.text;
BEGIN
	d := pg_catalog.concat_ws(E'\n',
		'# 个人信息查询答复：人脸信息', '',
		'依据《中华人民共和国个人信息保护法》第四十四条、第四十五条及《人脸识别技术应用安全管理办法》，现将我们处理的您的人脸信息及相关情况答复如下。', '',
		'- 个人编号（假名）：' || (r->>'subject'),
		'- 出生日期：' || @extschema@._doc_text(r->'registered'->'birth_date'),
		'- 答复生成时间：' || @extschema@._doc_text(r->'generated_at'), '',
		'## 一、您的同意及向您告知的事项', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'consents') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			'### 处理目的：' || (x->>'purpose'), '',
			'- 个人信息处理者：' || @extschema@._doc_text(x->'processor') || '（联系方式：' || @extschema@._doc_text(x->'processor_contact') || '）',
			'- 同意人：' || CASE x->>'given_by' WHEN 'guardian' THEN '父母或者其他监护人' ELSE '本人' END
				|| '；方式：' || CASE x->>'obtained_how' WHEN 'written' THEN '书面' WHEN 'electronic' THEN '电子' ELSE '当面' END
				|| '；单独同意：' || @extschema@._doc_text(x->'separate')
				|| '；同意对外传输：' || @extschema@._doc_text(x->'transfer_consent'),
			'- 同意时间：' || @extschema@._doc_text(x->'given_at') || '；更新时间：' || @extschema@._doc_text(x->'renewed_at')
				|| '；撤回时间：' || @extschema@._doc_text(x->'withdrawn_at'),
			'- 告知版本：' || @extschema@._doc_text(x->'notice'->'version') || '（发布于 ' || @extschema@._doc_text(x->'notice'->'published_at') || '）',
			'- 告知正文：' || @extschema@._doc_text(x->'notice'->'body'),
			'- 处理方式：' || @extschema@._doc_text(x->'notice'->'processing_method'),
			'- 保存期限：' || @extschema@._doc_text(x->'notice'->'retention_statement'),
			'- 必要性及对个人权益的影响：' || @extschema@._doc_text(x->'notice'->'necessity_and_impact'),
			'- 行使权利的方式和程序：' || @extschema@._doc_text(x->'notice'->'rights_procedure'), '');
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d, '## 二、我们保存的您的人脸信息', '',
		'人脸信息以加密的特征向量保存，本答复不包含特征向量本身。', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'faces') LOOP
		d := d || E'\n' || pg_catalog.format('- 记录 %s：处理目的 %s，采集设备 %s，录入时间 %s，保存至 %s%s',
			x->>'id', x->>'purpose', @extschema@._doc_text(x->'device'), x->>'enrolled_at', x->>'expires_at',
			CASE WHEN (x->>'minor')::pg_catalog.bool THEN '（录入时不满十四周岁）' ELSE '' END);
	END LOOP;
	IF pg_catalog.jsonb_array_length(r->'faces') = 0 THEN
		d := d || E'\n（无）';
	END IF;
	d := pg_catalog.concat_ws(E'\n', d, '', '## 三、处理记录', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'processing_history') LOOP
		d := d || E'\n' || pg_catalog.format('- %s %s/%s%s%s', x->>'at', x->>'event', x->>'outcome',
			COALESCE('，处理目的 ' || (x->>'purpose'), ''), COALESCE('，设备 ' || (x->>'device'), ''));
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d, '', '## 四、删除情况', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'erasure') LOOP
		d := d || E'\n' || pg_catalog.format('- 记录 %s（%s）：状态 %s，原因 %s，删除时间 %s，覆写确认 %s',
			x->>'face_id', x->>'purpose', x->>'status', @extschema@._doc_text(x->'reason'),
			@extschema@._doc_text(x->'deleted_at'), @extschema@._doc_text(x->'heap_erased_at'));
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d, '', '## 五、您的投诉、举报和请求', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'requests') LOOP
		d := d || E'\n' || pg_catalog.format('- 第 %s 号（%s）：收到 %s，答复期限 %s，状态 %s，答复 %s',
			x->>'id', x->>'kind', x->>'received_on', x->>'deadline', x->>'status', @extschema@._doc_text(x->'answer'));
	END LOOP;
	IF pg_catalog.jsonb_array_length(r->'requests') = 0 THEN
		d := d || E'\n（无）';
	END IF;
	RETURN d || E'\n';
END
$$;

REVOKE ALL ON @extschema@.request, @extschema@.request_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.record_request(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.date) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.update_request(pg_catalog.int8, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._requests_overdue() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._requests_alert() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._rights_compliance() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.subject_report(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.subject_report_document(pg_catalog.text) FROM PUBLIC;
GRANT SELECT ON @extschema@.request TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.record_request(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.date) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.update_request(pg_catalog.int8, pg_catalog.text, pg_catalog.text) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.subject_report(pg_catalog.text) TO frt_admin, frt_enroller;
GRANT EXECUTE ON FUNCTION @extschema@.subject_report_document(pg_catalog.text) TO frt_admin, frt_enroller;
