# A regulator's walk-through in Chinese: a populated database with two
# personal-information processors (purposes of both kinds, consents incl. a
# minor's given by the guardian and a separate consent to central storage,
# faces, matches, a refusal, an erasure, a security incident, a person's
# request); with lc_messages = 'zh_CN.UTF-8', one processor's auditor and
# administrator produce the filing materials, the compliance report (its
# details and the Markdown document) and a subject report: all in Chinese,
# citing articles as 第N条, free of embeddings, and only of that processor.
# A refusal comes in Chinese with its SQLSTATE.
use strict;
use warnings;
use utf8;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;
use Encode qw(decode);

my $locales = `locale -a 2>/dev/null`;
plan skip_all => 'locale zh_CN.UTF-8 not generated (scripts/install-deps.sh makes it)'
  unless $locales =~ /^zh_CN\.utf-?8$/mi;


my $node = PostgreSQL::Test::Cluster->new('regulator_zh');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;

# A distinctive embedding per face (128 dimensions, six decimals), so the
# documents can be searched for its numbers.
sub emb
{
	my ($n) = @_;
	return '[' . join(',', map { sprintf('%.6f', sin($n * 131 + $_) * 0.7) } 1 .. 128) . ']';
}

# ---- two processors, each with its own logins, purposes and devices
my $setup = q{
	CREATE EXTENSION frt_governance CASCADE;
	SET client_min_messages = warning;
	INSERT INTO frt.processor (name, contact) VALUES ('甲公司', 'dpo@alpha.example'), ('乙公司', 'dpo@beta.example');
};
for my $t ('a', 'b')
{
	my $proc = $t eq 'a' ? '甲公司' : '乙公司';
	$setup .= qq{
	CREATE ROLE ${t}_admin LOGIN IN ROLE frt_admin;
	CREATE ROLE ${t}_enr LOGIN IN ROLE frt_enroller;
	CREATE ROLE ${t}_match LOGIN IN ROLE frt_matcher;
	CREATE ROLE ${t}_aud LOGIN IN ROLE frt_auditor;
	-- the processor's people work in Chinese (lc_messages is set by a superuser)
	SELECT format('ALTER ROLE %I SET lc_messages = %L', r, 'zh_CN.UTF-8')
	  FROM unnest(ARRAY['${t}_admin', '${t}_enr', '${t}_match', '${t}_aud']) r \\gexec
	SELECT frt.processor_login(r, '$proc') FROM unnest(ARRAY['${t}_admin', '${t}_enr', '${t}_match', '${t}_aud']) r;
	INSERT INTO frt.purpose (name, processor, kind, description, method, retention, alternative_method)
	VALUES ('${t}_door', '$proc', 'verification', 'office door', '1:1 against the enrolled face', '1 year', 'badge');
	INSERT INTO frt.purpose (name, processor, kind, description, method, retention, minor_retention, minors_allowed)
	VALUES ('${t}_hall', '$proc', 'identification', 'school hall', '1:N against the gallery', '30 days', '7 days', true);
	SELECT frt.publish_notice(p, 'notice of ' || p, 'face match', 'kept as stated', 'needed; low impact',
		'write to the DPO', 'read aloud at the desk') FROM unnest(ARRAY['${t}_door', '${t}_hall']) p;
	INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('${t}_door', 'DPO', 'PIA'), ('${t}_hall', 'DPO', 'PIA');
	INSERT INTO frt.device (name, processor, location_type, signage) VALUES ('${t}_cam', '$proc', 'workplace', true);
	SET ROLE ${t}_admin;
	SELECT frt.grant_application(r, p, ARRAY['enrol', 'verify', 'identify', 'export'])
	  FROM unnest(ARRAY['${t}_enr', '${t}_match']) r, unnest(ARRAY['${t}_door', '${t}_hall']) p;
	SELECT frt.bind_device('${t}_cam', r) FROM unnest(ARRAY['${t}_enr', '${t}_match']) r;
	RESET ROLE;
	};
}
$node->safe_psql('postgres', $setup);

# Run SQL as a login (in Chinese: its lc_messages); stdout, or 'ERROR <SQLSTATE>: message'.
sub as
{
	my ($role, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $role ], on_error_stop => 1);
	$out = decode('UTF-8', $out);
	$err = decode('UTF-8', $err);
	return $out if $rc == 0;
	my ($state, $msg) = $err =~ /(?:ERROR|错误):\s+([0-9A-Z]{5}):\s*([^\n]*)/;
	return 'ERROR ' . ($state // '?') . ': ' . ($msg // $err);
}

# ---- each processor's people: an adult at the door and in the hall, a
# child in the hall with the guardian's consent; matches; an erasure.
for my $t ('a', 'b')
{
	my $n = $t eq 'a' ? 0 : 10;
	my ($e1, $e2, $e3, $e4) = map { emb($n + $_) } 1 .. 4;
	is(as("${t}_enr", qq{
		SELECT frt.register_subject('${t}_adult', '1980-03-03');
		SELECT frt.register_subject('${t}_child', '2018-06-06');
		SELECT frt.register_subject('${t}_leaver', '1975-01-01');
		SELECT frt.give_consent('${t}_adult', '${t}_door', 'self', 'written', p_central_storage => true);
		SELECT frt.give_consent('${t}_adult', '${t}_hall', 'self', 'written', p_central_storage => true);
		SELECT frt.give_consent('${t}_child', '${t}_hall', 'guardian', 'written', p_guardian_ref => 'mother, id checked',
			p_central_storage => true);
		SELECT frt.give_consent('${t}_leaver', '${t}_door', 'self', 'electronic', p_central_storage => true);
		SELECT frt.enroll('${t}_adult', '${t}_door', '$e1', '${t}_cam');
		SELECT frt.enroll('${t}_adult', '${t}_hall', '$e2', '${t}_cam');
		SELECT frt.enroll('${t}_child', '${t}_hall', '$e3', '${t}_cam');
		SELECT frt.enroll('${t}_leaver', '${t}_door', '$e4', '${t}_cam');
		SELECT 'ok'}) =~ s/.*\n//sr, 'ok', "$t: subjects registered, consents given (a minor's by the guardian), faces enrolled");
	is(as("${t}_match", qq{
		SELECT (frt.verify('${t}_adult', '${t}_door', '$e1', '${t}_cam')).matched;
		SELECT count(*) FROM frt.identify('${t}_hall', '$e2', '${t}_cam');
		SELECT 'ok'}) =~ s/.*\n//sr, 'ok', "$t: a verification and an identification");
	is(as("${t}_enr", qq{SELECT frt.withdraw_consent('${t}_leaver', '${t}_door')}) =~ /ERROR/ ? 'error' : 'ok', 'ok',
		"$t: a person withdraws consent");
	is(as("${t}_admin", qq{
		SELECT frt.record_incident('a test laptop with the door logs was lost', ARRAY['${t}_hall'], false) > 0;
		SELECT frt.record_request('access', 'email', 'asks what is kept about the adult', '${t}_adult') > 0}),
		"t\nt", "$t: a minor security incident and a person's request are registered");
}
$node->safe_psql('postgres', 'SET client_min_messages = warning; SELECT frt.purge()');
# a major incident of every purpose (NULL) of Alpha leaves Beta's assessments alone
is(as('a_admin', q{SELECT frt.record_incident('a badge server was breached', NULL, true) > 0}), 't',
	'Alpha records a major incident touching all its purposes');
is($node->safe_psql('postgres', q{SELECT string_agg(p, ',' ORDER BY p) FROM unnest(ARRAY['a_door', 'a_hall', 'b_door', 'b_hall']) p
	WHERE frt.has_current_assessment(p)}), 'b_door,b_hall', "it voids Alpha's assessments only");
like(as('a_enr', q{SELECT frt.enroll('a_adult', 'a_door', '} . emb(97) . q{', 'a_cam')}),
	qr/^ERROR MF009: 处理目的 'a_door' 没有有效的个人信息保护影响评估.*第九条/,
	'processing refused until re-assessed (MF009, in Chinese)');
is(as('a_admin', q{INSERT INTO frt.assessment (purpose, assessor, report)
	VALUES ('a_door', 'DPO', 'PIA after the breach'), ('a_hall', 'DPO', 'PIA after the breach') RETURNING 'ok'}) =~ s/\n.*//sr,
	'ok', 'Alpha re-assesses');

# ---- a refusal, in Chinese, with its SQLSTATE and article
my $refusal = as('a_enr', q{SELECT frt.enroll('a_adult', 'a_door', '} . emb(99) . q{', 'b_cam')});
like($refusal, qr/^ERROR MF145: 角色 a_enr 未绑定到设备 'b_cam'/, 'a refusal keeps its MF SQLSTATE') or diag($refusal);
like($refusal, qr/\p{Han}/, 'its message is in Chinese');
my $refusal2 = as('a_enr', q{SELECT frt.enroll('nobody_consented', 'a_door', '} . emb(98) . q{', 'a_cam')});
like($refusal2, qr/^ERROR MF\w{3}: .*\p{Han}.*第[一二三四五六七八九十]+条/, 'a refusal of the Measures cites 第N条 in Chinese')
  or diag($refusal2);

# ---- the filing materials of the auditor's processor
my $filing = as('a_aud', 'SELECT frt.filing_materials_document()');
for my $heading ('第十五条', '（一）个人信息处理者的基本情况', '（二）人脸信息处理目的和处理方式',
	'（三）人脸信息存储数量和安全保护措施', '（四）人脸信息的处理规则和操作规程', '（五）个人信息保护影响评估报告')
{
	ok(index($filing, $heading) >= 0, "the filing materials have $heading") or diag($filing);
}
like($filing, qr/甲公司/, 'they name the processor');
unlike($filing, qr/乙公司|b_door|b_hall|b_cam/, 'and nothing of the other processor');

# ---- the compliance report: Chinese details, machine-readable names
my $report = as('a_aud', q{SELECT article || '|' || check_name || '|' || status || '|' || detail FROM frt.compliance_report()});
like($report, qr/^Art\. 5\|notice_in_force\|ok\|每个处理目的均有生效的告知$/m,
	'the compliance report: article, check name and status as they are, the detail in Chinese');
like($report, qr/^Art\. 9\|security_incidents\|[a-z]+\|已记录安全事件 2 起（其中重大安全事件 1 起）/m, 'the incident register row counts this processor\'s incident');
like($report, qr/^Art\. 6\|separate_consent\|ok\|.*\p{Han}/m, 'every row has a Chinese detail');
unlike($report, qr/b_door|b_hall|b_cam|乙公司/, 'the report shows nothing of the other processor');
my $english = $node->safe_psql('postgres', q{SET lc_messages = 'C';
	SELECT detail FROM frt.compliance_report() WHERE check_name = 'notice_in_force'});
is($english, 'every purpose has a notice in force', 'with lc_messages C the detail stays English');

my $doc = as('a_admin', 'SELECT frt.compliance_report_document()');
like($doc, qr/^# 人脸识别技术应用合规情况报告$/m, 'the compliance document has its title');
for my $art ('第五条', '第六条', '第七条', '第九条', '第十四条', '第十五条')
{
	like($doc, qr/^## \Q$art\E$/m, "it has a section $art");
}
like($doc, qr/^- (合规|警告|违规|信息)（notice_in_force）：每个处理目的均有生效的告知$/m, 'rows as status in words, check name, Chinese detail');
unlike($doc, qr/\b(ok|warning|violation)\b/, 'no English status');
like($doc, qr/个人信息处理者：甲公司/, 'it names the processor');
unlike($doc, qr/b_door|b_hall|b_cam|乙公司/, 'and nothing of the other processor');

# ---- a subject report for a person of the processor
my $subject = as('a_admin', q{SELECT frt.subject_report_document('a_adult')});
like($subject, qr/个人信息查询答复/, 'the subject report is in Chinese');
like($subject, qr/处理目的：a_door/, 'it shows the person\'s consents');
like($subject, qr/第 \d+ 号（access）/, 'and the person\'s request');
unlike($subject, qr/b_door|b_hall|b_adult|乙公司/, 'and nothing of the other processor');
like(as('a_aud', q{SELECT frt.filing_materials_document('乙公司')}), qr/^ERROR P0002: 个人信息处理者 "乙公司" 未登记$/,
	'naming the other processor gives nothing of it: unknown here');
like(as('a_admin', q{SELECT frt.subject_report_document('b_adult')}), qr/^ERROR \w{5}: .*\p{Han}/,
	'another processor\'s person is unknown here, said in Chinese');

# ---- no embedding anywhere
my $all = join("\n", $filing, $report, $doc, $subject);
my @numbers;
for my $n (1 .. 4)
{
	push @numbers, grep { length($_) > 6 } (split /,/, substr(emb($n), 1, -1))[0 .. 7];
}
is(scalar(grep { index($all, $_) >= 0 } @numbers), 0, 'no embedding number in any document');
my $stored = $node->safe_psql('postgres', q{SELECT trim(both '[]' from frt._face_open(id, embedding)::text)
	FROM frt.face WHERE subject = 'a_adult' ORDER BY id LIMIT 1});
my @stored = grep { length($_) > 6 } (split /,/, $stored)[0 .. 7];
ok(@stored > 0, 'a stored face to look for');
is(scalar(grep { index($all, $_) >= 0 } @stored), 0, 'nor any number of a stored face');
unlike($all, qr/-?\d\.\d{3,},\s*-?\d\.\d{3,},\s*-?\d\.\d{3,}/, 'nor any list of numbers');

done_testing();
