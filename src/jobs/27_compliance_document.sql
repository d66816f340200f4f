-- The compliance report as a Chinese document (Markdown) for the regulator
-- and the data-protection officer: one section per article of the Measures
-- (第N条), each row with its status in words (合规, 警告, 违规, 信息) and
-- its detail, which compliance_report() gives in the caller's language
-- (lc_messages = 'zh_CN.UTF-8': Chinese).  check_name stays as it is: it is
-- the machine-readable name of the check.

-- A number from 1 to 99 in Chinese numerals, as the Measures number their
-- articles (十三, 二十一).
CREATE FUNCTION @extschema@._cn_numeral(p_n pg_catalog.int4)
RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN p_n OPERATOR(pg_catalog.<) 1 OR p_n OPERATOR(pg_catalog.>) 99 THEN p_n::pg_catalog.text
	WHEN p_n OPERATOR(pg_catalog.<) 10 THEN d[p_n]
	ELSE CASE WHEN p_n OPERATOR(pg_catalog./) 10 OPERATOR(pg_catalog.>) 1 THEN d[p_n OPERATOR(pg_catalog./) 10] ELSE '' END
		OPERATOR(pg_catalog.||) '十'
		OPERATOR(pg_catalog.||) CASE WHEN p_n OPERATOR(pg_catalog.%) 10 OPERATOR(pg_catalog.>) 0
			THEN d[p_n OPERATOR(pg_catalog.%) 10] ELSE '' END
	END
FROM (SELECT ARRAY['一', '二', '三', '四', '五', '六', '七', '八', '九']::pg_catalog.text[] AS d) x
$$;

CREATE FUNCTION @extschema@.compliance_report_document()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	v_art pg_catalog.int4 := NULL;
	v_body pg_catalog.text := '';
	v_ok pg_catalog.int4 := 0;
	v_warning pg_catalog.int4 := 0;
	v_violation pg_catalog.int4 := 0;
	v_info pg_catalog.int4 := 0;
BEGIN
	-- the rows in article order, each article's rows in the report's order
	FOR r IN
		SELECT c.article, c.check_name, c.status, c.detail,
			pg_catalog.substring(c.article, '[0-9]+')::pg_catalog.int4 AS n
		FROM @extschema@.compliance_report() WITH ORDINALITY AS c(article, check_name, status, detail, i)
		ORDER BY n, c.i
	LOOP
		IF v_art IS DISTINCT FROM r.n THEN
			v_body := v_body OPERATOR(pg_catalog.||) E'\n## 第' OPERATOR(pg_catalog.||) @extschema@._cn_numeral(r.n)
				OPERATOR(pg_catalog.||) E'条\n\n';
			v_art := r.n;
		END IF;
		v_body := v_body OPERATOR(pg_catalog.||) pg_catalog.format(E'- %s（%s）：%s\n',
			CASE r.status WHEN 'ok' THEN '合规' WHEN 'warning' THEN '警告' WHEN 'violation' THEN '违规'
				WHEN 'info' THEN '信息' ELSE r.status END,
			r.check_name, COALESCE(r.detail, ''));
		CASE r.status
			WHEN 'ok' THEN v_ok := v_ok + 1;
			WHEN 'warning' THEN v_warning := v_warning + 1;
			WHEN 'violation' THEN v_violation := v_violation + 1;
			ELSE v_info := v_info + 1;
		END CASE;
	END LOOP;
	RETURN pg_catalog.concat_ws(E'\n',
		'# 人脸识别技术应用合规情况报告', '',
		'依据《人脸识别技术应用安全管理办法》，以下按条款列出本数据库可以核查的事项及其核查结果。',
		'括号内为检查项的名称（供程序识别，不翻译）。', '',
		'- 个人信息处理者：' OPERATOR(pg_catalog.||) COALESCE(@extschema@._caller_processor(), '全部（超级用户）'),
		'- 生成时间：' OPERATOR(pg_catalog.||) pg_catalog.to_char(pg_catalog.statement_timestamp() AT TIME ZONE 'Asia/Shanghai',
			'YYYY-MM-DD HH24:MI') OPERATOR(pg_catalog.||) '（北京时间）',
		pg_catalog.format('- 汇总：合规 %s 项，警告 %s 项，违规 %s 项，信息 %s 项', v_ok, v_warning, v_violation, v_info),
		v_body);
END
$$;

REVOKE ALL ON FUNCTION @extschema@._cn_numeral(pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.compliance_report_document() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.compliance_report_document() TO frt_admin, frt_auditor;
COMMENT ON FUNCTION @extschema@.compliance_report_document() IS
	'the compliance report as a Chinese Markdown document: one section per article (第N条), statuses 合规, 警告, 违规, 信息';
