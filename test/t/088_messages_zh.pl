# Messages in Chinese: with lc_messages = 'zh_CN.UTF-8' the refusals and
# rejections of the governance SQL (through frt._t), the refusals raised in
# C, the core's type errors and hints come from po/zh_CN.po, with the same
# SQLSTATE and CONSTRAINT field as in English; with lc_messages = 'C' they
# are in English.  The audit trail records the English reason whatever the
# caller's language.  The catalogue translates every message of the sources
# and every message of the SQL goes through _t (make check-po): a message
# added without a translation, or written without _t, fails here.
#
# The database is UTF8 with LC_CTYPE C, the case where a preloaded
# library's catalogue needs its codeset bound in each backend.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FrtGovTest;

my $tree = $ENV{TESTDIR};
my $locales = `locale -a 2>/dev/null`;
plan skip_all => 'locale zh_CN.UTF-8 not generated (scripts/install-deps.sh makes it)'
  unless $locales =~ /^zh_CN\.utf-?8$/mi;

# ---- the catalogue is complete
my $pg_config = $ENV{PG_CONFIG} // 'pg_config';
my ($out, $err) = ('', '');
my $ok = IPC::Run::run(['make', '-s', '-C', $tree, '-f', 'mk/frt.mk', "PG_CONFIG=$pg_config", 'check-po'],
	'>', \$out, '2>', \$err);
ok($ok, 'make check-po: every message of the sources is in po/zh_CN.po') or diag("$out\n$err");
like($out, qr/po\/zh_CN\.po: \d+ translated messages\.$/m, 'po/zh_CN.po: none untranslated, none fuzzy');

# A message added to the sources without a translation fails the check.
mkdir("$tree/src/zz_probe") or die "mkdir: $!";
open(my $fh, '>', "$tree/src/zz_probe/probe.sql") or die "open: $!";
print $fh "SELECT \@extschema\@._t('a message nobody has translated yet %s', 1);\n";
close($fh);
($out, $err) = ('', '');
$ok = IPC::Run::run(['make', '-s', '-C', $tree, '-f', 'mk/frt.mk', "PG_CONFIG=$pg_config", 'check-po'],
	'>', \$out, '2>', \$err);
ok(!$ok, 'make check-po fails on a message the catalogue lacks');
like($err, qr/lacks messages of the sources/, '... saying what to do');
# ... and so does a message written without _t (a later change's format()).
open($fh, '>', "$tree/src/zz_probe/probe.sql") or die "open: $!";
print $fh "DO \$\$ BEGIN RAISE EXCEPTION 'a plain message %', 1 USING ERRCODE = 'data_exception'; END \$\$;\n";
close($fh);
($out, $err) = ('', '');
$ok = IPC::Run::run(['make', '-s', '-C', $tree, '-f', 'mk/frt.mk', "PG_CONFIG=$pg_config", 'check-po'],
	'>', \$out, '2>', \$err);
ok(!$ok, 'make check-po fails on a message not written with _t');
like($out . $err, qr/probe\.sql:1: message not written \@extschema\@\._t/, '... naming the line');
unlink("$tree/src/zz_probe/probe.sql");
rmdir("$tree/src/zz_probe");

my $node = PostgreSQL::Test::Cluster->new('messages_zh');
$node->init(extra => ['--encoding=UTF8', '--locale=C']);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION frt_governance CASCADE');
$node->safe_psql('postgres', q{
INSERT INTO frt.processor VALUES ('Acme Ltd', 'dpo@acme.example');
INSERT INTO frt.purpose (name, kind, description, method, retention, minor_retention,
	alternative_method, dimension, storage_legal_basis)
VALUES ('z_door', 'verification', 'office door', '1:1 at the door', '1 year', '90 days', 'badge', 4,
	'test fixture: a regulation allowing central storage');
SELECT frt.publish_notice('z_door', 'We compare your face.', '1:1', '1 year', 'low', 'dpo', 'read aloud');
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('z_door', 'dpo', 'PIA');
INSERT INTO frt.device (name, location_type) VALUES ('z_office', 'workplace');
SELECT frt.register_subject('z_s1', '1990-01-01');
CREATE ROLE z_matcher IN ROLE frt_matcher;
SELECT frt.grant_application('z_matcher', 'z_door', ARRAY['verify']);
SELECT frt.bind_device('z_office', 'z_matcher');
CREATE FUNCTION public.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; c text; m text; h text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, c = CONSTRAINT_NAME, m = MESSAGE_TEXT,
		h = PG_EXCEPTION_HINT;
	RETURN concat_ws('|', s, c, m, NULLIF(h, ''));
END $$;
GRANT EXECUTE ON FUNCTION public.err(text) TO PUBLIC;
});

# One statement in a session with lc_messages = $lc (as $role if given).
sub err_in
{
	my ($lc, $sql, $role) = @_;
	my $q = $sql =~ s/'/''/gr;
	return $node->safe_psql('postgres',
		"SET lc_messages = '$lc';" . ($role ? "SET ROLE $role;" : '') . "SELECT public.err('$q')");
}

my $cite13 = '（《人脸识别技术应用安全管理办法》第十三条）';
my $enroll_bad_device = q{SELECT frt.enroll('z_s1', 'z_door', '[0.6,0.8,0,0]', 'z_nowhere')};

# ---- a refusal of the Measures raised in SQL (MF013)
is(err_in('zh_CN.UTF-8', $enroll_bad_device),
	"MF013|Measures Art. 13|设备 'z_nowhere' 未登记$cite13",
	'refusal in Chinese: same SQLSTATE and CONSTRAINT, article cited in Chinese');
is(err_in('C', $enroll_bad_device),
	"MF013|Measures Art. 13|device 'z_nowhere' is not registered (Measures Art. 13)",
	'the same refusal in English under lc_messages = C');

# ---- the audit trail records the English reason, whatever the language
is($node->safe_psql('postgres', q{
	SELECT string_agg(detail->>'reason', ' / ' ORDER BY seq) FROM frt.audit
	 WHERE event = 'refusal' AND sqlstate = 'MF013'}),
	"device 'z_nowhere' is not registered / device 'z_nowhere' is not registered",
	'the audit record keeps the untranslated English reason for both callers');

# ---- the masked refusal a matcher gets (MF006, raised in C)
is(err_in('zh_CN.UTF-8', q{SELECT * FROM frt.verify('z_s1', 'z_door', '[0.6,0.8,0,0]', 'z_office')}, 'z_matcher'),
	"MF006|Measures Art. 6|无法在处理目的 'z_door' 下验证该个人（《人脸识别技术应用安全管理办法》第六条）",
	'masked refusal (C) in Chinese');
is(err_in('C', q{SELECT * FROM frt.verify('z_s1', 'z_door', '[0.6,0.8,0,0]', 'z_office')}, 'z_matcher'),
	"MF006|Measures Art. 6|subject cannot be verified for purpose 'z_door' (Measures Art. 6)",
	'masked refusal (C) in English');

# ---- a rejection of input (22004)
is(err_in('zh_CN.UTF-8', q{SELECT frt.enroll(NULL, 'z_door', '[0.6,0.8,0,0]', 'z_office')}),
	'22004||个人和处理目的不能为 NULL', 'rejection in Chinese');
is(err_in('C', q{SELECT frt.enroll(NULL, 'z_door', '[0.6,0.8,0,0]', 'z_office')}),
	'22004||subject and purpose must not be NULL', 'rejection in English');
is($node->safe_psql('postgres', q{
	SELECT detail->>'reason' FROM frt.audit WHERE event = 'rejected' ORDER BY seq DESC LIMIT 1}),
	'subject and purpose must not be NULL', 'the rejection is recorded in English');

# ---- the core's type errors
is(err_in('zh_CN.UTF-8', q{SELECT '[1,2]'::frt.face_embedding(3)}),
	'22000||应为 3 维，而不是 2 维', 'wrong dimension in Chinese');
is(err_in('C', q{SELECT '[1,2]'::frt.face_embedding(3)}),
	'22000||expected 3 dimensions, not 2', 'wrong dimension in English');
like(err_in('zh_CN.UTF-8', q{SELECT '[NaN,1]'::frt.face_embedding}),
	qr/^22000\|\|face_embedding 中不允许出现 NaN/, 'NaN in Chinese');

# ---- a hint (RAISE in the jobs layer)
is(err_in('zh_CN.UTF-8', q{SELECT frt.open_filing('initial', NULL)}),
	'22023||备案类型必须是 change（变更）或 cancellation（注销），而不是 initial|'
	  . '存储的人脸信息达到 10 万人时，frt.filing_check() 会开立首次备案。',
	'message and hint in Chinese');
is(err_in('C', q{SELECT frt.open_filing('initial', NULL)}),
	'22023||filing kind must be change or cancellation, not initial|'
	  . 'The initial filing is opened by frt.filing_check() when 100,000 subjects are stored.',
	'message and hint in English');

# ---- the first statement of a new session is already in the database encoding
my $first = $node->safe_psql('postgres', q{SET lc_messages = 'zh_CN.UTF-8'; SELECT public.err('SELECT ''[1,2]''::frt.face_embedding(3)')});
is($first, '22000||应为 3 维，而不是 2 维', 'no question marks in a C-ctype database');

is($node->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'), 't', 'audit chain intact');
$node->stop;
done_testing();
