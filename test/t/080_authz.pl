# Authorization per application (Measures Art. 14): a login holding
# frt_matcher or frt_enroller may act only for the purposes, operations and
# devices granted to it (or to a role it is a member of); a device or a
# purpose whose facts change processes nothing until a second member of
# frt_admin approves it.  Attacks:
#  - cross-application use of a purpose (a door application running 1:N on
#    a station's watch list) and of a device (naming the station's camera);
#  - no oracle: an unknown purpose or device is refused as an ungranted one;
#  - a matcher granting itself (function, direct INSERT);
#  - SET ROLE: to a role it is not a member of, to a bare frt_* role;
#  - relabelling a device, changing a purpose, then processing before
#    approval; approving one's own change (also through a shared role);
#    setting the approval columns directly;
#  - every refusal and every grant change is on record.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('authz');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'");
gov_keys($node);
$node->start;

sub q1 { return $node->safe_psql('postgres', $_[0]); }

# Run $sql as login $user; returns (SQLSTATE or 'ok', output or message).
sub as
{
	my ($user, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $user ]);
	return ('ok', $out) if $rc == 0 && $err !~ /ERROR/;
	my ($state, $msg) = $err =~ /ERROR:\s+([0-9A-Z]{5}):\s+([^\n]*)/;
	return ($state // 'unknown', $msg // $err);
}

my $fixture = slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/3/g;
q1($fixture);
# start from no application grants (the fixture authorizes the group roles)
q1(q{
	SELECT frt.revoke_application(grantee, purpose) FROM frt.app_grant;
	SELECT frt.unbind_device(device, grantee) FROM frt.device_login;
	CREATE ROLE door_app LOGIN IN ROLE frt_matcher, frt_enroller;
	CREATE ROLE police_app LOGIN IN ROLE frt_matcher;
	CREATE ROLE police_group NOLOGIN;
	CREATE ROLE police_member LOGIN IN ROLE frt_matcher, police_group;
	CREATE ROLE admin1 LOGIN IN ROLE frt_admin;
	CREATE ROLE admin2 LOGIN IN ROLE frt_admin;
	CREATE ROLE admin_ops NOLOGIN IN ROLE frt_admin;
	GRANT admin_ops TO admin1, admin2;
	SELECT frt.register_subject('s1', '1980-01-01');
	SELECT frt.give_consent('s1', p, 'self', 'written', p_transfer_consent => true)
	FROM unnest(ARRAY['door', 'gate']) p;
	SELECT frt.enroll('s1', 'door', '[1,0,0]', 'd1'), frt.enroll('s1', 'gate', '[1,0,0]', 'cam');
});
is(q1('SELECT count(*) FROM frt.app_grant') . '/' . q1('SELECT count(*) FROM frt.device_login'),
	'0/0', 'no grants to start with');

# Fresh grants: the door application verifies at d1; the police
# identifies at cam, through a group role.
is( q1(q{SELECT frt.grant_application('door_app', 'door', ARRAY['verify', 'enrol'])}),
	'{enrol,verify}', 'door_app granted enrol and verify on door');
q1(q{
	SELECT frt.bind_device('d1', 'door_app');
	SELECT frt.grant_application('police_app', 'gate', ARRAY['identify']);
	SELECT frt.bind_device('cam', 'police_app');
	SELECT frt.grant_application('police_group', 'gate', ARRAY['identify']);
	SELECT frt.bind_device('cam', 'police_group');
});

my ($st, $msg) = as('door_app', q{SELECT matched FROM frt.verify('s1', 'door', '[1,0,0]', 'd1')});
is("$st $msg", "ok t", 'door_app verifies at its own device');
($st, $msg) = as('police_app', q{SELECT subject FROM frt.identify('gate', '[1,0,0]', 'cam')});
is("$st $msg", "ok s1", 'police_app identifies at its own camera');
($st, $msg) = as('police_member', q{SELECT subject FROM frt.identify('gate', '[1,0,0]', 'cam')});
is("$st $msg", "ok s1", 'a member of a granted group role identifies');

# Cross-application use of a purpose: refused, whatever device is named.
($st, $msg) = as('door_app', q{SELECT * FROM frt.identify('gate', '[1,0,0]', 'cam')});
is($st, 'MF144', 'door_app cannot identify on the station\'s purpose');
like($msg, qr/role door_app is not authorized to identify for purpose 'gate' \(Measures Art\. 14\)/,
	'the refusal names the role, operation and purpose asked');
my ($st2, $msg2) = as('door_app', q{SELECT * FROM frt.identify('no_such_purpose', '[1,0,0]', 'cam')});
(my $norm = $msg2) =~ s/no_such_purpose/gate/;
is("$st2 $norm", "$st $msg", 'an unknown purpose is refused exactly as an ungranted one (no oracle)');
($st, $msg) = as('police_app', q{SELECT * FROM frt.verify('s1', 'door', '[1,0,0]', 'd1')});
is($st, 'MF144', 'police_app cannot verify on the door purpose');
($st, $msg) = as('door_app', q{SELECT * FROM frt.export_faces('s1', 'door')});
is($st, '42501', 'export needs frt_admin first');
($st, $msg) = as('admin1', q{SELECT count(*) FROM frt.export_faces('s1', 'door')});
is($st, 'MF144', 'an admin without the export grant cannot export');

# Cross-application use of a device: refused; an unknown device alike.
q1(q{SELECT frt.grant_application('door_app', 'gate', ARRAY['identify'])});
($st, $msg) = as('door_app', q{SELECT * FROM frt.identify('gate', '[1,0,0]', 'cam')});
is($st, 'MF145', 'door_app granted the purpose still cannot use the station\'s camera');
($st2, $msg2) = as('door_app', q{SELECT * FROM frt.identify('gate', '[1,0,0]', 'no_such_cam')});
($norm = $msg2) =~ s/no_such_cam/cam/;
is("$st2 $norm", "$st $msg", 'an unknown device is refused exactly as an unbound one');
($st, $msg) = as('door_app', q{SELECT frt.enroll('s1', 'door', '[0,1,0]', 'cam')});
is($st, 'MF145', 'nor enrol through it');
is(q1(q{SELECT frt.revoke_application('door_app', 'gate')}), '{}', 'grant revoked');

# A matcher granting itself.
($st) = as('door_app', q{SELECT frt.grant_application('door_app', 'gate', ARRAY['identify'])});
is($st, '42501', 'a matcher cannot call grant_application');
($st) = as('door_app', q{INSERT INTO frt.app_grant VALUES ('door_app', 'gate', '{identify}', 'door_app')});
is($st, '42501', 'nor insert a grant');
($st) = as('door_app', q{INSERT INTO frt.device_login VALUES ('cam', 'door_app', 'door_app')});
is($st, '42501', 'nor bind itself to a device');
($st) = as('door_app', q{SELECT frt.bind_device('cam', 'door_app')});
is($st, '42501', 'nor call bind_device');

# SET ROLE tricks.
($st) = as('door_app', q{SET ROLE police_group});
is($st, '42501', 'door_app cannot become the police group');
($st, $msg) = as('police_app', q{SET ROLE frt_matcher; SELECT * FROM frt.identify('gate', '[1,0,0]', 'cam')});
is($st, 'MF144', 'acting as the bare frt_matcher role carries no grant');
($st, $msg) = as('door_app', q{SET ROLE frt_enroller; SELECT frt.enroll('s1', 'door', '[0,1,0]', 'd1')});
is($st, 'MF144', 'nor as frt_enroller');

# Relabelling a device: processing waits for a second administrator.
($st) = as('admin1', q{UPDATE frt.device SET location_type = 'business_premises' WHERE name = 'd1'});
is($st, 'ok', 'admin1 relabels d1');
is(q1(q{SELECT changed_by || ' ' || (approved_at IS NULL) FROM frt.device WHERE name = 'd1'}),
	'admin1 true', 'the relabelled device awaits approval');
($st, $msg) = as('door_app', q{SELECT * FROM frt.verify('s1', 'door', '[1,0,0]', 'd1')});
is($st, 'MF146', 'a relabelled device processes nothing before approval');
($st) = as('door_app', q{SELECT frt.enroll('s1', 'door', '[0,1,0]', 'd1')});
is($st, 'MF146', 'nor enrols');
($st, $msg) = as('admin1', q{SELECT frt.approve_device('d1')});
is($st, 'MF147', 'self-approval is refused');
($st, $msg) = as('admin1', q{SET ROLE admin_ops; SELECT frt.approve_device('d1')});
is($st, 'MF147', 'and through SET ROLE to another admin role');
($st) = as('admin1', q{UPDATE frt.device SET approved_at = now(), approved_by = 'admin2' WHERE name = 'd1'});
is($st, '42501', 'the approval columns cannot be set directly');
($st) = as('admin1', q{INSERT INTO frt.device (name, location_type, approved_by, approved_at)
	VALUES ('d9', 'workplace', 'admin2', now())});
is(q1(q{SELECT changed_by || ' ' || (approved_at IS NULL) FROM frt.device WHERE name = 'd9'}),
	'admin1 true', 'a registration by an admin starts unapproved, whatever it supplies');
($st, $msg) = as('admin2', q{SELECT frt.approve_device('d1')});
is("$st $msg", 'ok t', 'a second admin approves');
is(q1(q{SELECT approved_by FROM frt.device WHERE name = 'd1'}), 'admin2', 'the approver is recorded');
($st, $msg) = as('door_app', q{SELECT matched FROM frt.verify('s1', 'door', '[1,0,0]', 'd1')});
is("$st $msg", 'ok t', 'the approved device processes again');

# A change of a purpose's facts, made through a role both admins share:
# neither may approve it; a superuser may.
($st) = as('admin2', q{SET ROLE admin_ops; UPDATE frt.purpose SET similarity_threshold = 0.2 WHERE name = 'door'});
is($st, 'ok', 'admin2 (as admin_ops) lowers the door threshold');
($st) = as('door_app', q{SELECT * FROM frt.verify('s1', 'door', '[1,0,0]', 'd1')});
is($st, 'MF146', 'the changed purpose processes nothing before approval');
($st) = as('admin1', q{SELECT frt.approve_purpose('door')});
is($st, 'MF147', 'a member of the role that made the change cannot approve it');
($st) = as('admin2', q{SELECT frt.approve_purpose('door')});
is($st, 'MF147', 'nor the login that acted as that role');
is(q1(q{SELECT changed_by FROM frt.purpose WHERE name = 'door'}), 'admin_ops', 'the change\'s author is recorded');
is(q1(q{SELECT frt.approve_purpose('door')}), 't', 'a superuser approves');
($st, $msg) = as('door_app', q{SELECT matched FROM frt.verify('s1', 'door', '[1,0,0]', 'd1')});
is("$st $msg", 'ok t', 'the approved purpose processes again');
is(q1(q{UPDATE frt.device SET capture_area = 'gate 2' WHERE name = 'cam';
		SELECT approved_by IS NOT NULL FROM frt.device WHERE name = 'cam'}), 't',
	'a superuser\'s change is approved by the superuser');

# Revoking one operation.
is(q1(q{SELECT frt.revoke_application('door_app', 'door', ARRAY['verify'])}), '{enrol}', 'verify revoked');
($st) = as('door_app', q{SELECT * FROM frt.verify('s1', 'door', '[1,0,0]', 'd1')});
is($st, 'MF144', 'a revoked operation is refused');

# Consent is recorded only by an application that enrols for the purpose.
($st, $msg) = as('door_app', q{SELECT frt.give_consent('s1', 'gate', 'self', 'written')});
is($st, 'MF144', 'door_app cannot record consents for the station\'s purpose');

# On record: every refusal, with the calling login, and every grant change.
is( q1(q{SELECT string_agg(sqlstate || ':' || role_name, ',' ORDER BY seq) FROM frt.audit
		 WHERE event = 'refusal' AND sqlstate IN ('MF144', 'MF145', 'MF146', 'MF147')}),
	'MF144:door_app,MF144:door_app,MF144:police_app,MF144:admin1,MF145:door_app,MF145:door_app,'
	  . 'MF145:door_app,MF144:police_app,MF144:door_app,MF146:door_app,MF146:door_app,MF147:admin1,'
	  . 'MF147:admin1,MF146:door_app,MF147:admin1,MF147:admin2,MF144:door_app,MF144:door_app',
	'every refusal is on record with its login');
is( q1(q{SELECT count(*) FROM frt.audit WHERE event = 'registry'
		 AND detail->>'table' IN ('app_grant', 'device_login')}),
	# the fixture's 6 grants and 9 bindings, their 15 revocations; 6 grants
	# and bindings here; door_app's grant on gate and its revocation; the
	# revocation of verify
	6 + 9 + 15 + 6 + 2 + 1,
	'every grant, binding and revocation is on record');
is( q1(q{SELECT count(*) FROM frt.audit WHERE event = 'registry' AND outcome = 'approved'}), '2',
	'approvals are on record');

done_testing();
