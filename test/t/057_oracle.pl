# The similarity scores are no oracle (Measures Art. 14).
#
# 1. A reconstruction attack: a gallery of 1,000 random 128-d faces; a
#    login holding only frt_matcher probes frt.identify and frt.verify with
#    unit vectors (coordinate probing: with exact scores and no floor, the
#    i-th unit vector's similarity to a face is the face's i-th normalised
#    component).  With the defaults it recovers no stored embedding to
#    cosine 0.9, and the refusals and lockout alerts are on record; the
#    same attack code against an administrator-loosened setup (exact
#    scores, k up to 1000, threshold -1, no lockout, no identification
#    limit) recovers nearly every face, so the test can fail.
# 2. Exact limits under 16 concurrent sessions: subjects identified per
#    hour, the lockout after failed verifications, the match rate and the
#    export rate each let through exactly their limit, not one more.
# 3. Rolling back does not reset a count: identifications and failed
#    verifications made in a transaction that rolls back still count.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $dim = 128;
my $gallery = 1000;

my $node = PostgreSQL::Test::Cluster->new('oracle');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'frt_governance'\nmax_connections = 40\nmax_worker_processes = 16");
gov_keys($node);
$node->start;

my $fixture = PostgreSQL::Test::Utils::slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/$dim/g;
$node->safe_psql('postgres', $fixture);

# The gallery: subjects s1 .. s1000, one random face each, enrolled for
# door (1:1) and gate (1:N).
$node->safe_psql('postgres', qq{
	SELECT setseed(0.57);
	DO \$\$
	DECLARE
		v real[];
	BEGIN
		FOR i IN 1 .. $gallery LOOP
			v := (SELECT array_agg((random() - 0.5)::real) FROM generate_series(1, $dim));
			PERFORM frt.register_subject('s' || i, '1980-01-01');
			PERFORM frt.give_consent('s' || i, p, 'self', 'written') FROM unnest(ARRAY['door', 'gate']) p;
			PERFORM frt.enroll('s' || i, 'door', v::frt.face_embedding, 'd1');
			PERFORM frt.enroll('s' || i, 'gate', v::frt.face_embedding, 'cam');
		END LOOP;
	END \$\$;
	CREATE ROLE thief LOGIN IN ROLE frt_matcher;
	-- the attacker's own notes: what it learnt, and what was refused
	CREATE TABLE recon (subject text, i int, v float8);
	CREATE TABLE attack_log (call text, sqlstate text);
	GRANT INSERT ON recon, attack_log TO thief;
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.face}), 2 * $gallery, 'gallery enrolled');

# The attack, run as the thief; the same code in both rounds.  First the
# widest ask (k 1000, min_similarity -1); if refused, what is allowed.
my $attack = qq{
DO \$\$
DECLARE
	e real[];
	sim float8;
BEGIN
	FOR i IN 1 .. $dim LOOP
		e := array_fill(0::real, ARRAY[$dim]);
		e[i] := 1;
		BEGIN
			INSERT INTO recon SELECT x.subject, i, x.similarity
			  FROM frt.identify('gate', e::frt.face_embedding, 'cam', 1000, -1) x
			 WHERE x.similarity IS NOT NULL;
		EXCEPTION WHEN OTHERS THEN
			INSERT INTO attack_log VALUES ('identify wide', SQLSTATE);
			BEGIN
				INSERT INTO recon SELECT x.subject, i, x.similarity
				  FROM frt.identify('gate', e::frt.face_embedding, 'cam', 10) x
				 WHERE x.similarity IS NOT NULL;
			EXCEPTION WHEN OTHERS THEN
				INSERT INTO attack_log VALUES ('identify', SQLSTATE);
			END;
		END;
	END LOOP;
	-- and subject by subject through 1:1 verification, for five targets
	FOR t IN 1 .. 5 LOOP
		FOR i IN 1 .. $dim LOOP
			e := array_fill(0::real, ARRAY[$dim]);
			e[i] := 1;
			BEGIN
				SELECT v.similarity INTO sim FROM frt.verify('s' || t, 'door', e::frt.face_embedding, 'd1') v;
				IF sim IS NOT NULL THEN
					INSERT INTO recon VALUES ('s' || t, i, sim);
				END IF;
			EXCEPTION WHEN OTHERS THEN
				INSERT INTO attack_log VALUES ('verify', SQLSTATE);
			END;
		END LOOP;
	END LOOP;
END \$\$;
};

# How many stored faces the attacker's notes reconstruct to cosine >= 0.9
# (a coordinate it never learnt counts as 0).
my $recovered = q{
	WITH r AS (
		SELECT s.subject, array_agg(COALESCE(x.v, 0)::real ORDER BY g) AS a
		FROM (SELECT DISTINCT subject FROM recon) s CROSS JOIN generate_series(1, 128) g
		LEFT JOIN (SELECT subject, i, max(v) AS v FROM recon GROUP BY 1, 2) x
			   ON x.subject = s.subject AND x.i = g
		GROUP BY s.subject)
	SELECT count(*) FILTER (WHERE frt.cosine_similarity(frt._face_open(f.id, f.embedding), r.a::frt.face_embedding) >= 0.9)
	FROM r JOIN frt.face f ON f.subject = r.subject AND f.purpose = 'gate'
	WHERE r.a <> array_fill(0::real, ARRAY[128])};

# Round 1: the defaults.
my $t0 = time;
$node->safe_psql('postgres', $attack, extra_params => [ '-U', 'thief' ]);
note(sprintf('attack with the defaults took %d s', time - $t0));
is($node->safe_psql('postgres', $recovered), '0', 'defaults: no stored embedding reconstructed to cosine 0.9');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT subject) FROM recon}), '0',
	'defaults: the probes learnt nothing at all (no score below the threshold, no subject near a unit vector)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM attack_log WHERE call = 'identify wide' AND sqlstate = 'MF142'}),
	$dim, 'every wide identification (k 1000, min_similarity -1) refused with MF142');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM frt.audit WHERE role_name = 'thief' AND event = 'refusal' AND sqlstate = 'MF142'}),
	$dim, 'and each refusal is on record');
is($node->safe_psql('postgres', q{SELECT count(*) FROM attack_log WHERE call = 'verify' AND sqlstate = 'MF014'}),
	5 * ($dim - 5), 'verification probing: each target locked after 5 failures (MF014)');
is($node->safe_psql('postgres', q{
	SELECT string_agg(subject, ',' ORDER BY subject) FROM frt.alert WHERE kind = 'verification_lockout'}),
	's1,s2,s3,s4,s5', 'one lockout alert per target');

# Round 2: an administrator loosens everything the defaults withhold: the
# same attack now reads the gallery out.
$node->safe_psql('postgres', q{
	TRUNCATE recon, attack_log;
	UPDATE frt.purpose SET similarity_threshold = -1, max_k = 1000, score_disclosure = 'exact'
	 WHERE name = 'gate';
	UPDATE frt.purpose SET score_disclosure = 'exact' WHERE name = 'door';
	INSERT INTO frt.intrusion_policy (role_name, max_failed_verifications, identified_per_hour)
	VALUES ('thief', NULL, NULL);
});
$t0 = time;
$node->safe_psql('postgres', $attack, extra_params => [ '-U', 'thief' ]);
note(sprintf('attack with the loosened setup took %d s', time - $t0));
my $n = $node->safe_psql('postgres', $recovered);
cmp_ok($n, '>=', $gallery * 0.99, "loosened: the same attack reconstructs $n of $gallery faces to cosine 0.9");
is($node->safe_psql('postgres', q{SELECT count(*) FROM attack_log}), '0', 'loosened: nothing refused');

# Back to the defaults for the rest.
$node->safe_psql('postgres', q{
	UPDATE frt.purpose SET similarity_threshold = DEFAULT, max_k = DEFAULT, score_disclosure = DEFAULT
	 WHERE name IN ('gate', 'door');
	DELETE FROM frt.intrusion_policy;
});

# 2. Exact limits under 16 concurrent sessions.  A crowd of 20 faces near
# one probe (so each identification finds 10, its max_k); subjects for
# the lockout, the match rate and export.
$node->safe_psql('postgres', qq{
	INSERT INTO frt.purpose (name, kind, description, method, retention, serves_public_security, dimension,
		storage_legal_basis)
	VALUES ('crowd', 'identification', 'crowd', '1:N', '30 days', true, $dim, 'a regulation');
	SELECT frt.publish_notice('crowd', 'notice', 'm', '30 days', 'public security', 'write to dpo', 'large print and audio at the desk');
	INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('crowd', 'dpo', 'PIA');
	CREATE FUNCTION probe(jitter float8 DEFAULT 0, seed int DEFAULT 0) RETURNS frt.face_embedding
	LANGUAGE sql IMMUTABLE AS \$\$
		SELECT array_agg(sin(g * 1.7) + jitter * cos(g * seed))::real[]::frt.face_embedding
		FROM generate_series(1, $dim) g
	\$\$;
	SELECT count(frt.register_subject('c' || i, '1980-01-01')) FROM generate_series(1, 20) i;
	SELECT count(frt.give_consent('c' || i, 'crowd', 'self', 'written')) FROM generate_series(1, 20) i;
	SELECT count(frt.enroll('c' || i, 'crowd', probe(0.05, i), 'cam')) FROM generate_series(1, 20) i;
	SELECT frt.register_subject(s, '1980-01-01') FROM unnest(ARRAY['lk', 'lk2', 'ok1', 'ex1']) s;
	SELECT frt.give_consent(s, 'door', 'self', 'written', p_transfer_consent => true)
	  FROM unnest(ARRAY['lk', 'lk2', 'ok1', 'ex1']) s;
	SELECT frt.enroll(s, 'door', probe(), 'd1') FROM unnest(ARRAY['lk', 'lk2', 'ok1', 'ex1']) s;
	CREATE ROLE conc LOGIN IN ROLE frt_matcher;
	CREATE ROLE rate LOGIN IN ROLE frt_matcher;
	CREATE ROLE exporter LOGIN IN ROLE frt_admin;
	CREATE ROLE rb LOGIN IN ROLE frt_matcher;
	INSERT INTO frt.intrusion_policy (role_name, identified_per_hour) VALUES ('conc', 50);
	INSERT INTO frt.intrusion_policy (role_name, match_rate_per_minute) VALUES ('rate', 5);
	INSERT INTO frt.intrusion_policy (role_name, export_rate_per_hour) VALUES ('exporter', 5);
	INSERT INTO frt.intrusion_policy (role_name, identified_per_hour) VALUES ('rb', 5);
	-- what each session got back; refusals (MF014) counted apart
	CREATE TABLE got (what text, n int);
	GRANT INSERT ON got TO PUBLIC;
	CREATE FUNCTION try(what text, q text) RETURNS void LANGUAGE plpgsql AS \$\$
	DECLARE
		n int;
	BEGIN
		EXECUTE q INTO n;
		INSERT INTO got VALUES (what, n);
	EXCEPTION WHEN SQLSTATE 'MF014' THEN
		INSERT INTO got VALUES (what || ' refused', 0);
	END \$\$;
});
# matchers may identify for the new purpose (application authorization)
gov_authorize($node, 'frt_matcher');
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.identify('crowd', probe(), 'cam', 10)}),
	'10', 'a crowd identification finds max_k (10) subjects');

my @wrong = map { $_ == 1 ? 1 : 0 } 1 .. $dim;
my $wrong = '[' . join(',', @wrong) . ']';
my %cases = (
	identify => [ 'conc', q{SELECT try('identify', 'SELECT count(*) FROM frt.identify(''crowd'', probe(), ''cam'', 10)');},
		50, 'subjects returned to 16 sessions identifying at once: exactly identified_per_hour (50)' ],
	lockout => [ 'conc', qq{SELECT try('lockout', 'SELECT count(*) FROM frt.verify(''lk'', ''door'', ''$wrong'', ''d1'')');},
		5, 'failed verifications of one subject answered to 16 sessions at once: exactly max_failed_verifications (5)' ],
	rate => [ 'rate', q{SELECT try('rate', 'SELECT count(*) FROM frt.verify(''ok1'', ''door'', probe(), ''d1'')');},
		5, 'verifications answered to 16 sessions at once: exactly match_rate_per_minute (5)' ],
	export => [ 'exporter', q{SELECT try('export', 'SELECT count(*) FROM frt.export_faces(''ex1'', ''door'')');},
		5, 'exports made by 16 sessions at once: exactly export_rate_per_hour (5)' ],
);
for my $c (sort keys %cases)
{
	my ($role, $sql, $limit, $name) = @{ $cases{$c} };
	$node->pgbench("--no-vacuum --client=16 --jobs=4 --transactions=4 --username=$role", 0,
		[qr{processed: 64/64}], [qr{}], "16 sessions: $c", { "057_$c" => $sql });
	is($node->safe_psql('postgres', qq{SELECT sum(n) FROM got WHERE what = '$c'}), $limit, $name);
	cmp_ok($node->safe_psql('postgres', qq{SELECT count(*) FROM got WHERE what = '$c refused'}), '>', 0,
		"$c: the calls over the limit were refused (MF014)");
}
is($node->safe_psql('postgres', q{SELECT sum(subjects) FROM frt.intrusion_counter WHERE role_name = 'conc'}),
	'50', 'the audit counts the 50 subjects returned, no more');
is($node->safe_psql('postgres', q{
	SELECT string_agg(kind || ':' || role_name, ',' ORDER BY kind) FROM frt.alert
	 WHERE role_name IN ('conc', 'rate', 'exporter') AND kind <> 'verification_lockout'}),
	'bulk_export:exporter,bulk_identification:conc,match_rate:rate', 'one alert per limit reached');
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.alert WHERE kind = 'verification_lockout' AND subject = 'lk'}),
	'1', 'one lockout alert for the subject');

# 3. Rollback resets nothing.
my ($rc, $out, $err) = $node->psql('postgres', q{
	BEGIN;
	SELECT count(*) FROM frt.identify('crowd', probe(), 'cam', 10);
	ROLLBACK;
	SELECT count(*) FROM frt.identify('crowd', probe(), 'cam', 10);
}, extra_params => [ '-U', 'rb' ]);
is($out, '5', 'an identification rolled back returned its 5 subjects (the limit) ...');
like($err, qr/reached its limit of 5 subjects identified an hour/, '... and still counts after ROLLBACK');
($rc, $out, $err) = $node->psql('postgres', qq{
	BEGIN;
	SELECT count(*) FILTER (WHERE NOT (frt.verify('lk2', 'door', '$wrong', 'd1')).matched) FROM generate_series(1, 5) g;
	ROLLBACK;
	SELECT matched FROM frt.verify('lk2', 'door', probe(), 'd1');
}, extra_params => [ '-U', 'rb' ]);
is($out, '5', 'five failed verifications inside a transaction that rolls back ...');
like($err, qr/MF014|is locked until/, '... still lock the subject out, even for the right face');

done_testing();
