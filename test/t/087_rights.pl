# Measures Art. 17 and the person's rights: the register of complaints,
# reports and requests (deadline across a holiday and a make-up Saturday,
# an overdue one alerted daily and shown in the compliance report), and
# frt.subject_report(): what is held about one person, from a populated
# database: consents with the notices shown, face metadata, processing
# history, erasure evidence; nothing of another person, no embedding.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;
use FrtGovTest;

my $tree = $ENV{TESTDIR} // '.';
my $node = PostgreSQL::Test::Cluster->new('rights');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;

# Two people, alice and bob, at the door; alice also at the canteen, then
# withdraws from it (her canteen face is erased); a new notice version.
$node->safe_psql('postgres', qq{
	CREATE EXTENSION frt_governance CASCADE;
	CREATE ROLE dpo LOGIN IN ROLE frt_admin;
	CREATE ROLE desk LOGIN IN ROLE frt_enroller;
	CREATE ROLE cam LOGIN IN ROLE frt_matcher;
	CREATE ROLE inspector LOGIN IN ROLE frt_auditor;
	\\set purpose door
	\\i $tree/test/sql/jobs_fixture.sql
	SET client_min_messages = warning;
	INSERT INTO frt.purpose (name, kind, description, method, retention, storage_legal_basis)
	VALUES ('canteen', 'identification', 'pay at the canteen', '1:N against staff gallery', '30 days',
		'a regulation');
	SELECT frt.publish_notice('canteen', 'We match your face to pay.', '1:N match', 'kept 30 days',
		'needed to pay without a card; low impact', 'withdraw at the canteen desk', 'large print');
	INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('canteen', 'DPO', 'lawful, necessary, low risk');
	SELECT frt.register_subject('alice', '1985-05-05');
	SELECT frt.register_subject('bob', '1990-01-01');
	SELECT frt.give_consent('alice', 'door', 'self', 'written');
	SELECT frt.give_consent('bob', 'door', 'self', 'written');
	SELECT frt.give_consent('alice', 'canteen', 'self', 'electronic');
	SELECT frt.enroll('alice', 'door', pg_temp.emb(1), 'jobs-cam');
	SELECT frt.enroll('bob', 'door', pg_temp.emb(2), 'jobs-cam');
	SELECT frt.enroll('alice', 'canteen', pg_temp.emb(3), 'jobs-cam');
	SELECT frt.withdraw_consent('alice', 'canteen');
	SELECT frt.purge();
	SELECT frt.publish_notice('door', 'We match your face to open the door, now also at night.', '1:N match',
		'kept 30 days', 'needed to open the door; low impact', 'withdraw at the front desk', 'large print');
	SELECT frt.give_consent('alice', 'door', 'self', 'written');
});
# The embedding of each stored face, as numbers (superuser, for the check).
my @alice_numbers = split /,/, $node->safe_psql('postgres', q{
	SELECT string_agg(x, ',') FROM (SELECT trim(both '[]' from frt._face_open(id, embedding)::text) AS v
	  FROM frt.face WHERE subject = 'alice') f, LATERAL (SELECT unnest(string_to_array(v, ',')) AS x LIMIT 8) u});
ok(@alice_numbers >= 8, 'alice has a stored face (numbers to look for)');

sub as_role
{
	my ($role, $sql) = @_;
	return $node->psql('postgres', $sql, extra_params => [ '-U', $role ]);
}

# ---- subject_report ----
my ($rc, $report, $err) = as_role('desk', q{SELECT frt.subject_report('alice')});
is($rc, 0, 'an enroller answers a person\'s request with frt.subject_report') or diag($err);
($rc, my $by_dpo, $err) = as_role('dpo', q{SELECT frt.subject_report('alice') - 'generated_at'});
is($rc, 0, 'so does the administrator');

(my $report_sql = $report) =~ s/'/''/g;
my $q = sub { $node->safe_psql('postgres', "SELECT ($_[0]) FROM (SELECT '$report_sql'::jsonb AS r) x") };
is($q->(q{r->>'subject'}), 'alice', 'the report is about alice');
is($q->(q{(SELECT string_agg((c->>'purpose') || ' v' || (c->'notice'->>'version') || ' '
		|| CASE WHEN c->>'withdrawn_at' IS NULL THEN 'active' ELSE 'withdrawn' END, ', '
		ORDER BY c->>'purpose', (c->>'id')::int) FROM jsonb_array_elements(r->'consents') c)}),
	'canteen v1 withdrawn, door v2 active', 'her consents, with the notice version shown to her (renewed under v2)');
like($q->(q{r->'consents'->0->'notice'->>'body'}), qr/We match your face to open the door, now also at night/,
	'and the text of that notice');
is($q->(q{(SELECT string_agg((f->>'purpose') || ' ' || (f->>'device'), ',') FROM jsonb_array_elements(r->'faces') f)}),
	'door jobs-cam', 'the faces held: metadata of her one remaining face');
is($q->(q{(SELECT count(*) FROM jsonb_array_elements(r->'faces') f WHERE f ? 'embedding')}), '0',
	'without its embedding');
like($q->(q{(SELECT string_agg((e->>'event') || '/' || (e->>'outcome'), ' ') FROM jsonb_array_elements(r->'processing_history') e)}),
	qr{consent/given.*enrol/enrolled.*consent/withdrawn.*erasure/erased}, 'her processing history from the audit trail');
is($q->(q{(SELECT string_agg((e->>'purpose') || ' ' || (e->>'status') || ' ' || (e->>'reason'), ',')
		FROM jsonb_array_elements(r->'erasure') e WHERE e->>'deleted_at' IS NOT NULL)}),
	'canteen ' . $node->safe_psql('postgres', q{SELECT status || ' ' || reason FROM frt.erasure_report('alice')
		WHERE purpose = 'canteen'}), 'the erasure evidence of her withdrawn face');

# Nothing of bob's, and no biometric value anywhere in the report.
unlike($report, qr/bob/, 'nothing of another person (his id appears nowhere)');
my $bob_face = $node->safe_psql('postgres', q{SELECT id FROM frt.face WHERE subject = 'bob'});
is($q->(qq{(SELECT count(*) FROM jsonb_array_elements(r->'faces') f WHERE (f->>'id')::int8 = $bob_face)}), '0',
	'nor his face');
my @found = grep { index($report, $_) >= 0 } grep { length($_) > 6 } @alice_numbers;
is(scalar(@found), 0, 'no component of her embedding appears in the report');
unlike($report, qr/-?\d\.\d{3,},\s*-?\d\.\d{3,},\s*-?\d\.\d{3,}/, 'nor any list of numbers');
unlike($report, qr/\\\\x[0-9a-f]{16}/, 'nor sealed bytes');

is($node->safe_psql('postgres', q{SELECT string_agg(role_name, ',' ORDER BY seq) FROM frt.audit
	WHERE event = 'subject_report' AND subject = 'alice'}), 'desk,dpo', 'every subject report is audited');
($rc, undef, $err) = as_role('cam', q{SELECT frt.subject_report('alice')});
like($err, qr/permission denied/, 'a matcher cannot read a subject report');
($rc, undef, $err) = as_role('inspector', q{SELECT frt.subject_report('alice')});
like($err, qr/permission denied/, 'nor the auditor');
($rc, undef, $err) = as_role('desk', q{SELECT frt.subject_report('nobody')});
like($err, qr/subject "nobody" is not registered/, 'an unknown subject is an error');
($rc, my $sdoc, $err) = as_role('desk', q{SELECT frt.subject_report_document('alice')});
like($sdoc, qr/## 一、您的同意及向您告知的事项.*now also at night.*## 二、我们保存的您的人脸信息.*## 三、处理记录.*## 四、删除情况.*withdrawal/s,
	'the report as a Chinese document for the person');
unlike($sdoc, qr/bob/, 'with nothing of another person');
is(scalar(grep { index($sdoc, $_) >= 0 } grep { length($_) > 6 } @alice_numbers), 0, 'and no embedding');

# ---- The register of complaints, reports and requests ----
# Received on Fri 2026-09-18: 15 working days, counting Sun 20 Sep and
# Sat 10 Oct (make-up days), skipping 25 Sep (Mid-Autumn) and 1-7 Oct
# (National Day): due Thu 2026-10-15.
($rc, my $id, $err) = as_role('dpo', q{SELECT frt.record_request('complaint', 'email',
	'camera at the door has no sign', 'alice', 'door', '2026-09-18')});
is($rc, 0, 'a complaint is recorded') or diag($err);
is($node->safe_psql('postgres', "SELECT deadline || ' ' || status FROM frt.request WHERE id = $id"),
	'2026-10-15 received', 'due in 15 working days, across the holidays and the make-up days');
($rc, my $id2, $err) = as_role('dpo', q{SELECT frt.record_request('access', 'in_person',
	'asks what is held about her', 'alice', NULL, frt._filing_today())});
is($node->safe_psql('postgres', "SELECT deadline = frt.working_days_after(frt._filing_today(), 15) FROM frt.request WHERE id = $id2"),
	't', 'a request received today is due in 15 working days');
($rc, undef, $err) = as_role('dpo', q{SELECT frt.record_request('complaint', 'email', 'x', 'nobody')});
like($err, qr/subject "nobody" is not registered/, 'a request names only a registered subject');
($rc, undef, $err) = as_role('desk', q{SELECT frt.record_request('complaint', 'email', 'x')});
like($err, qr/permission denied/, 'only the administrator records requests');
($rc, undef, $err) = as_role('dpo', qq{INSERT INTO frt.request (kind, channel, received_on, summary, deadline, recorded_by)
	VALUES ('report', 'web', '2026-01-01', 'x', '2026-12-31', 'dpo')});
like($err, qr/permission denied/, 'nor can the register be written directly');

# Overdue: alerted by the daily check, shown in the compliance report.
$node->safe_psql('postgres', 'SET client_min_messages = error; SELECT frt.filing_check()');
is($node->safe_psql('postgres', q{SELECT string_agg(detail->>'id' || ' ' || (detail->>'deadline'), ',')
	FROM frt.audit WHERE event = 'alert' AND outcome = 'request_overdue'}), "$id 2026-10-15",
	'the overdue complaint is alerted (and only it)');
is($node->safe_psql('postgres', q{SELECT status || ': ' || detail FROM frt.compliance_report()
	WHERE check_name = 'requests_answered'}),
	"violation: 2 complaints, reports and requests of persons awaiting an answer (15 working days each), 1 overdue: #$id complaint due 2026-10-15",
	'the compliance report shows it as a violation (Art. 17)');

($rc, undef, $err) = as_role('dpo', "SELECT frt.update_request($id, 'answered')");
like($err, qr/records the answer/, 'answering needs the answer given');
as_role('dpo', "SELECT frt.update_request($id, 'in_progress')");
as_role('dpo', "SELECT frt.update_request($id, 'answered', 'sign installed on 2026-11-20; the camera was registered')");
is($node->safe_psql('postgres', "SELECT status || ' ' || (answered_on = frt._filing_today()) FROM frt.request WHERE id = $id"),
	'answered true', 'the answer is recorded with its date');
as_role('dpo', "SELECT frt.update_request($id, 'closed')");
($rc, undef, $err) = as_role('dpo', "SELECT frt.update_request($id, 'in_progress')");
like($err, qr/already closed/, 'a closed request does not reopen');
$node->safe_psql('postgres', 'SET client_min_messages = error; SELECT frt.filing_check()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.audit WHERE event = 'alert' AND outcome = 'request_overdue'}),
	'1', 'once answered it is no longer alerted');
is($node->safe_psql('postgres', q{SELECT string_agg(outcome, ',' ORDER BY seq) FROM frt.audit
	WHERE event = 'request' AND detail->>'id' = } . "'$id'"), 'received,in_progress,answered,closed',
	'every step of its handling is audited');
is($node->safe_psql('postgres', q{SELECT detail->>'late' FROM frt.audit WHERE event = 'request'
	AND outcome = 'answered' AND detail->>'id' = } . "'$id'"), 'true', 'and a late answer is marked late');
like($node->safe_psql('postgres', q{SELECT frt.subject_report('alice')->'requests'}),
	qr/"kind": "complaint".*"status": "closed"/, 'the subject report includes her requests');

$node->stop;
done_testing();
