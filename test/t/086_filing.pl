# Measures Art. 15 as a regulator would walk through it: from a populated
# database, the filing materials (items 1-5, as jsonb and as a Chinese
# document), the compliance report's filing and calendar rows; and the
# evasions: a cancellation filing for a processor that never filed, a
# material change without a change filing, a deadline counted across a
# public holiday and a make-up Saturday, a calendar about to run out.
# Also the default job times (night, China time).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;
use FrtGovTest;

my $tree = $ENV{TESTDIR} // '.';
my $node = PostgreSQL::Test::Cluster->new('filing');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;

# A processor, two purposes (one per fixture load), three people stored.
$node->safe_psql('postgres', qq{
	CREATE EXTENSION frt_governance CASCADE;
	CREATE ROLE dpo LOGIN IN ROLE frt_admin;
	\\set purpose door
	\\i $tree/test/sql/jobs_fixture.sql
	SET client_min_messages = warning;
	INSERT INTO frt.purpose (name, kind, description, method, retention, storage_legal_basis)
	VALUES ('canteen', 'identification', 'pay at the canteen', '1:N against staff gallery', '30 days',
		'a regulation');
	SELECT frt.publish_notice('canteen', 'We match your face to pay.', '1:N match', 'kept 30 days',
		'needed to pay without a card; low impact', 'withdraw at the canteen desk', 'large print');
	INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('canteen', 'DPO', 'lawful, necessary, low risk');
	SELECT frt.register_subject(s, '1985-05-05') FROM unnest(ARRAY['ann', 'ben', 'cai']) s;
	SELECT frt.give_consent(s, 'door', 'self', 'written') FROM unnest(ARRAY['ann', 'ben', 'cai']) s;
	SELECT frt.give_consent('ann', 'canteen', 'self', 'written');
	SELECT frt.enroll(s, 'door', pg_temp.emb(n::int), 'jobs-cam')
	  FROM unnest(ARRAY['ann', 'ben', 'cai']) WITH ORDINALITY AS x(s, n);
	SELECT frt.enroll('ann', 'canteen', pg_temp.emb(9), 'jobs-cam');
});

# Query as the data-protection officer (frt_admin).
sub dpo
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql, extra_params => [ '-U', 'dpo' ]);
}

# ---- The filing materials, items (1)-(5) of Art. 15 ----
my $m = 'frt.filing_materials()';
is(dpo(qq{SELECT string_agg(k || '=' || COALESCE($m->k->>'item', '-'), ' ' ORDER BY k COLLATE "C")
	FROM unnest(ARRAY['processor_basic_information', 'purposes_and_methods',
		'storage_scale_and_security_measures', 'processing_rules_and_operating_procedures',
		'impact_assessment_reports']) k}),
	'impact_assessment_reports=（五）个人信息保护影响评估报告 '
	  . 'processing_rules_and_operating_procedures=（四）人脸信息的处理规则和操作规程 '
	  . 'processor_basic_information=（一）个人信息处理者的基本情况 '
	  . 'purposes_and_methods=（二）人脸信息处理目的和处理方式 '
	  . 'storage_scale_and_security_measures=（三）人脸信息存储数量和安全保护措施',
	'the materials hold the five items of Art. 15, named as the law names them');
is(dpo(qq{SELECT concat_ws('|', m->'processor_basic_information'->>'name',
		m->'processor_basic_information'->>'contact',
		jsonb_array_length(m->'purposes_and_methods'->'purposes'),
		m->'storage_scale_and_security_measures'->'storage'->>'people_stored',
		m->'storage_scale_and_security_measures'->'storage'->>'faces_stored',
		m->'storage_scale_and_security_measures'->'storage'->'per_purpose'->>'door',
		m->'storage_scale_and_security_measures'->'security_measures'->'encryption'->>'enabled',
		m->'storage_scale_and_security_measures'->'security_measures'->'encryption'->>'suite',
		m->'storage_scale_and_security_measures'->'security_measures'->'access_control'->>'face_row_security',
		jsonb_array_length(m->'processing_rules_and_operating_procedures'->'rules'),
		m->'processing_rules_and_operating_procedures'->'rules'->0->'notice'->>'version',
		jsonb_array_length(m->'impact_assessment_reports'->'reports'))
	FROM (SELECT $m AS m) x}),
	'Acme Ltd|dpo@acme.example|2|3|4|3|true|aes-256-gcm|true|2|1|2',
	'each item from its source: processor, purposes, people and faces stored, encryption, RLS, notices, assessments');
like(dpo(qq{SELECT $m->'storage_scale_and_security_measures'->'security_measures'->'checks'::text}),
	qr/intrusion_detection.*identification_exposure|identification_exposure.*intrusion_detection/,
	'the security measures include the intrusion rules');
like(dpo(qq{SELECT $m->'storage_scale_and_security_measures'->'security_measures'->'erasure'->'jobs'::text}),
	qr/frt-purge.*frt-scrub/, 'and erasure by the scheduled jobs');
is($node->safe_psql('postgres', q{SELECT count(*) > 0 FROM frt.audit WHERE event = 'filing_materials' AND role_name = 'dpo'}), 't',
	'producing the materials is audited');

my $doc = dpo('SELECT frt.filing_materials_document()');
for my $heading ('《人脸识别技术应用安全管理办法》第十五条', '## （一）个人信息处理者的基本情况',
	'## （二）人脸信息处理目的和处理方式', '## （三）人脸信息存储数量和安全保护措施',
	'## （四）人脸信息的处理规则和操作规程', '## （五）个人信息保护影响评估报告')
{
	ok(index($doc, $heading) >= 0, "the Chinese document has $heading");
}
like($doc, qr/存储人脸信息的人数（去重）：3/, 'the document states the number of people stored');
my $materials = dpo('SELECT frt.filing_materials()::text');
my $one_face = $node->safe_psql('postgres', q{SELECT trim(both '[]' from frt._face_open(id, embedding)::text)
	FROM frt.face ORDER BY id LIMIT 1});
my @components = grep { length($_) > 6 } (split /,/, $one_face)[0 .. 7];
is(scalar(grep { index($materials . $doc, $_) >= 0 } @components), 0, 'no embedding in the materials or the document');
unlike($materials . $doc, qr/-?\d\.\d{3,},\s*-?\d\.\d{3,},\s*-?\d\.\d{3,}/, 'nor any list of numbers');
like($doc, qr/数据加密：已启用，算法套件 aes-256-gcm/, 'and the encryption');
like($doc, qr/处理目的：door.*处理目的：canteen|处理目的：canteen.*处理目的：door/s, 'and every purpose');
my ($rc, $out, $err) = $node->psql('postgres', q{SELECT frt.filing_materials('nobody')});
like($err, qr/processor "nobody" is not registered/, 'an unknown processor is an error');
($rc, $out, $err) = $node->psql('postgres', 'SELECT frt.filing_materials()', extra_params => [ '-U', 'dpo' ]);
is($rc, 0, 'NULL names the sole processor');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE frt_matcher; SELECT frt.filing_materials()});
like($err, qr/permission denied/, 'a matcher cannot produce the materials');

# ---- Evasion: a cancellation filing for a processor that never filed ----
is(dpo(q{SELECT frt.terminate_purpose('canteen') IS NULL}), 't',
	'terminating a purpose before any filing returns no cancellation deadline');
is(dpo(q{SELECT count(*) FROM frt.filing}), '0', 'and opens no cancellation filing');
$node->safe_psql('postgres', 'SET client_min_messages = error; SELECT frt.filing_check()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.audit WHERE event = 'alert'
	AND outcome IN ('filing_due', 'filing_overdue')}), '0', 'so the daily check raises no filing alert');
($rc, $out, $err) = $node->psql('postgres', q{SELECT frt.open_filing('cancellation', 'canteen')},
	extra_params => [ '-U', 'dpo' ]);
like($err, qr/no cancellation filing without an initial filing.*Measures Art\. 15/,
	'opening a cancellation filing by hand is refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.audit WHERE event = 'refusal' AND sqlstate = 'MF170'}),
	'1', 'and the refusal (MF170) is recorded');

# ---- Evasion: a material change without a change filing ----
dpo(q{UPDATE frt.purpose SET method = '1:N against all visitors' WHERE name = 'door'});
is(dpo(q{SELECT count(*) FROM frt.filing}), '0', 'before the initial filing a change opens nothing');
dpo(q{SELECT frt.record_filing('initial', frt._filing_today(), 'CAC-0001')});
dpo(q{UPDATE frt.purpose SET similarity_threshold = 0.7 WHERE name = 'door'});
is(dpo(q{SELECT count(*) FROM frt.filing}), '0', 'a threshold change is not a material change');
dpo(q{UPDATE frt.purpose SET method = '1:N against staff and contractors' WHERE name = 'door'});
is(dpo(q{SELECT string_agg(kind || ' ' || purpose || ' ' || (deadline = frt.working_days_after(frt._filing_today(), 30)), ',')
	FROM frt.filing WHERE filed_on IS NULL}), 'change door true',
	'a change of method opens a change filing due in 30 working days');
like($node->safe_psql('postgres', q{SELECT detail::text FROM frt.audit WHERE event = 'filing_change' ORDER BY seq DESC LIMIT 1}),
	qr/"changed": \["method"\]/, 'the change is recorded with what changed');
dpo(q{SELECT frt.publish_notice('door', 'We now match contractors too.', '1:N match', 'kept 30 days',
	'needed for the door', 'withdraw at the desk', 'large print')});
is(dpo(q{SELECT count(*) FROM frt.filing WHERE filed_on IS NULL}), '1',
	'a further change while one is open joins it (one open change filing per purpose)');
dpo(q{UPDATE frt.processor SET contact = 'privacy@acme.example'});
is(dpo(q{SELECT count(*) FROM frt.filing WHERE filed_on IS NULL AND kind = 'change' AND purpose IS NULL}), '1',
	'a change of the processor\'s contact opens an installation-wide change filing');
$node->safe_psql('postgres', q{SET session_replication_role = replica;
	INSERT INTO frt.purpose (name, kind, description, method, retention)
	VALUES ('lobby', 'identification', 'lobby', '1:N', '7 days')});
is(dpo(q{SELECT count(*) FROM frt.filing WHERE filed_on IS NULL AND purpose = 'lobby'}), '1',
	'a new purpose opens one, even under session_replication_role = replica');
dpo(q{SELECT frt.record_filing('change', frt._filing_today(), 'CAC-0002', 'door')});
is(dpo(q{SELECT count(*) FROM frt.filing WHERE filed_on IS NULL AND purpose = 'door'}), '0',
	'recording the change filing closes it');

# A change of the security measures (item 3) outside any table: a login
# granted the face table (embeddings readable) is found by the daily check.
dpo(q{SELECT frt.record_filing('change', frt._filing_today(), 'CAC-0003')});
is(dpo(q{SELECT count(*) FROM frt.filing WHERE filed_on IS NULL AND purpose IS NULL}), '0',
	'the installation-wide change filing is recorded');
$node->safe_psql('postgres', q{CREATE ROLE leaky LOGIN; GRANT SELECT ON frt.face TO leaky;
	SET client_min_messages = error; SELECT frt.filing_check()});
is(dpo(q{SELECT count(*) FROM frt.filing WHERE filed_on IS NULL AND purpose IS NULL}), '1',
	'a weakened security measure opens a change filing at the next daily check');
is($node->safe_psql('postgres', q{SELECT (detail->>'table') || ' ' || (detail->'changed')::text FROM frt.audit
	WHERE event = 'filing_change' ORDER BY seq DESC LIMIT 1}), 'security_measures ["checks.embedding_not_readable"]',
	'naming the measure that changed');
$node->safe_psql('postgres', q{REVOKE SELECT ON frt.face FROM leaky; DROP ROLE leaky});

# ---- A deadline across a public holiday and a make-up Saturday ----
# 2026-09-18 + 30 working days: Sun 20 Sep worked, 25-27 Sep Mid-Autumn,
# 1-7 Oct National Day, Sat 10 Oct worked (the shipped calendar);
# weekends alone would give 2026-10-30.
is(dpo(q{SELECT frt.working_days_after('2026-09-18', 30)}), '2026-11-05',
	'30 working days from 2026-09-18 end on 2026-11-05 (holidays skipped, make-up days counted)');
is(dpo(q{SELECT frt.open_filing('change', 'door', '2026-09-18')}), '2026-11-05',
	'a change filing triggered that day is due then');
is(dpo(q{SELECT frt.is_working_day('2026-10-10')::text || frt.is_working_day('2026-10-05')::text
	|| frt.is_working_day('2026-09-20')::text}), 'truefalsetrue',
	'Sat 10 Oct and Sun 20 Sep are working days, Mon 5 Oct is not');
is(dpo(q{SELECT status FROM frt.compliance_report() WHERE check_name = 'filings_open'}), 'violation',
	'the compliance report shows the overdue filing as a violation');
like(dpo(q{SELECT detail FROM frt.compliance_report() WHERE check_name = 'filings_open'}),
	qr/change "door" due 2026-11-05 \(-\d+ working days left\)/, 'with its deadline and the working days');
$node->safe_psql('postgres', 'SET client_min_messages = error; SELECT frt.filing_check()');
is($node->safe_psql('postgres', q{SELECT outcome FROM frt.audit WHERE event = 'alert'
	AND detail->>'deadline' = '2026-11-05' ORDER BY seq DESC LIMIT 1}), 'filing_overdue',
	'the daily check alerts about it as overdue');

# ---- The calendar: its source, how far it reaches, a newer year ----
is(dpo(q{SELECT string_agg(format('%s:%s', year,
		(source ~ ('国务院办公厅关于' || year || '年部分节假日安排的通知（国办发明电〔\d{4}〕\d+号）'))::text), ',' ORDER BY year)
	FROM frt.calendar_year}), '2025:true,2026:true',
	'the shipped calendar covers 2025 and 2026, each from its State Council notice');
is(dpo(q{SELECT count(*) FILTER (WHERE NOT is_workday) || '/' || count(*) FILTER (WHERE is_workday) FROM frt.holiday}),
	'61/11', 'with its public holidays and make-up working days');
my ($days_left) = dpo(q{SELECT days_left FROM frt.calendar_coverage()});
my $cal = dpo(q{SELECT status || '|' || detail FROM frt.compliance_report() WHERE check_name = 'working_day_calendar'});
if ($days_left <= 60)
{
	like($cal, qr/^warning\|.*$days_left days until its last day 2026-12-31: load the 2027 notice/,
		'within 60 days of its end the report warns, with the days left');
	is($node->safe_psql('postgres', q{SELECT count(*) > 0 FROM frt.audit WHERE event = 'alert'
		AND outcome = 'calendar_expiring'}), 't', 'and the daily check alerts');
}
else
{
	like($cal, qr/$days_left days until its last day 2026-12-31/, 'the report says how far the calendar reaches');
}
like(dpo(q{SELECT detail FROM frt.compliance_report() WHERE check_name = 'working_day_calendar'}),
	qr/deadlines beyond the calendar, counted on weekends only: 20\d\d-/,
	'a deadline after the calendar\'s last day is reported');
$node->safe_psql('postgres', 'SET client_min_messages = error; SELECT frt.filing_check()');
is($node->safe_psql('postgres', q{SELECT detail->>'calendar_covers_deadline' FROM frt.audit WHERE event = 'alert'
	   AND detail->>'kind' = 'change' AND purpose IS NULL ORDER BY seq DESC LIMIT 1}), 'false',
	'and flagged in the daily alert');

# Loading a newer year (test data in a rolled-back transaction: 2099 is
# no real notice).
is(dpo(qq{BEGIN;
	SELECT frt.load_calendar(E'# test\\nyear\\t2099\\ttest notice\\n2099-01-01\\toff\\tNew Year\\n2099-01-03\\twork\\tmake-up');
	SELECT concat_ws(' ', last_year, frt.is_working_day('2099-01-03')::text, frt.is_working_day('2099-01-01')::text)
	  FROM frt.calendar_coverage();
	ROLLBACK;}), "2\n2099 true false", 'frt.load_calendar() loads a newer year');
($rc, $out, $err) = $node->psql('postgres',
	qq{SELECT frt.load_calendar(E'year\\t2099\\tx\\n2099-01-05\\twork\\tmonday')}, extra_params => [ '-U', 'dpo' ]);
like($err, qr/2099-01-05 is a weekday: only a weekend day can be a make-up working day/,
	'a make-up working day on a weekday is refused');
($rc, $out, $err) = $node->psql('postgres', qq{SELECT frt.load_calendar(E'2099-01-01\\toff\\tx')},
	extra_params => [ '-U', 'dpo' ]);
like($err, qr/comes before the line "year<TAB>2099<TAB>source"/, 'a day without its year and source is refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.audit WHERE event = 'calendar'}), '1',
	'the load is audited');

# ---- Default job times: night in China (cron in GMT) ----
is($node->safe_psql('postgres', q{SELECT string_agg(jobname || ' ' || schedule, ', ') FROM frt.job_commands()}),
	'frt-purge 0 18 * * *, frt-vacuum 20 18 * * *, frt-scrub 40 18 * * *, frt-audit-retention 0 19 * * *, '
	  . 'frt-filing-check 0 17 * * *',
	'the default schedules run at 01:00-03:00 Beijing time');

$node->stop;
done_testing();
