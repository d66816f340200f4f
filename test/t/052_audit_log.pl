# No embedding value reaches the server log, with log_statement = all, for
# probes passed as literals (simple protocol), as bind parameters (extended
# protocol) and in error messages; the client still gets its own messages.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('audit_log');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'frt_governance'
log_statement = all
log_min_duration_statement = 0
log_min_error_statement = error
log_parameter_max_length_on_error = -1
});
gov_keys($node);
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION frt_governance CASCADE;
ALTER DATABASE postgres SET search_path = public, frt;
CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding(8));
INSERT INTO faces SELECT g, (SELECT array_agg(((g * 31 + i) % 97) / 97.0)::real[]
	FROM generate_series(1, 8) i)::frt.face_embedding(8) FROM generate_series(1, 50) g;
});

# Distinctive numbers that must never show up in the log.
my @secret = ('0.9876543', '0.1234567', '-0.4567891', '0.3141592');
my $vec = '[' . join(',', @secret, '0.5', '0.25', '0.125', '0.0625') . ']';
my $log_start = -s $node->logfile;

# 1. Simple protocol: the literal is in the statement text.
my $r = $node->safe_psql('postgres',
	"SELECT id FROM faces ORDER BY e <=> '$vec'::frt.face_embedding LIMIT 1");
like($r, qr/^\d+$/, 'identification with a literal probe ran');

# 2. An error whose message and statement hold the vector.
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT '[$secret[0],NaN,$secret[1]]'::frt.face_embedding");
like($err, qr/NaN/, 'client got the error');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT 1/0 FROM faces WHERE e <=> '$vec'::frt.face_embedding < 2");
like($err, qr/division by zero/, 'client got the division error');

# 3. Extended protocol, probe as a bind parameter (pgbench -M extended and
#    -M prepared bind :probe as $1; log_parameter_max_length = -1 logs it).
for my $mode ('extended', 'prepared')
{
	$node->pgbench(
		"--no-vacuum --client=1 --transactions=2 -M $mode",
		0, [qr{processed: 2/2}], [qr{^$}],
		"probe bound as a parameter ($mode)",
		{
			"052_probe_$mode" => qq{
SELECT '$vec' AS probe \\gset
SELECT id FROM faces ORDER BY e <=> :probe::frt.face_embedding LIMIT 3;
SELECT 1 WHERE :probe::frt.face_embedding <=> :probe::frt.face_embedding < 1;
}
		});
}

# 4. A literal inside a function's query (CONTEXT / internal query).
($ret, $out, $err) = $node->psql('postgres', qq{
DO \$\$ BEGIN PERFORM 1/0 FROM faces WHERE e <=> '$vec'::frt.face_embedding < 2; END \$\$;
});
like($err, qr/division by zero/, 'error inside a DO block');

# 5. A warning raised inside a statement that holds the literal (the
#    "SQL statement" context line is added by a callback).
$node->safe_psql('postgres', q{
CREATE FUNCTION warn_me() RETURNS int LANGUAGE plpgsql AS $$
BEGIN RAISE WARNING 'checking'; RETURN 1; END $$;
});
($ret, $out, $err) = $node->psql('postgres', qq{
DO \$\$ BEGIN PERFORM warn_me() FROM faces WHERE e <=> '$vec'::frt.face_embedding < 2 LIMIT 1; END \$\$;
}, extra_params => ['-v', 'SHOW_CONTEXT=always']);
like($err, qr/WARNING:  checking/, 'warning from inside a statement');
like($err, qr/\Q$secret[1]\E/, 'the client still sees its own statement in the context');

# 6. A LOG-level message during a statement (the server log adds the
#    statement to it): RAISE LOG from a function.
$node->safe_psql('postgres', q{
CREATE FUNCTION log_me() RETURNS int LANGUAGE plpgsql AS $$
BEGIN RAISE LOG 'note from inside'; RETURN 1; END $$;
});
$node->safe_psql('postgres', "SELECT log_me() FROM faces WHERE e <=> '$vec'::frt.face_embedding < 2 LIMIT 1");

my $log = slurp_file($node->logfile, $log_start);
like($log, qr/WARNING: checking/, 'the warning is logged');
like($log, qr/LOG:  note from inside/, 'the LOG message is logged');
like($log, qr/statement: SELECT id FROM faces ORDER BY e <=> '\[<redacted 8 numbers>\]'/,
	'the statement is logged with the probe redacted');
like($log, qr/parameters: \$1 = '\[<redacted 8 numbers>\]'/,
	'bind parameters are logged redacted');
like($log, qr/ERROR: division by zero/, 'the error is logged');
for my $s (@secret)
{
	unlike($log, qr/\Q$s\E/, "value $s is not in the server log");
}

# 7. Messages with nothing to redact reach the log unchanged: the same
#    lines, no severity prefix, no note (short number lists, versions,
#    times, a one-element array and a statement without a vector).
$log_start = -s $node->logfile;
$node->safe_psql('postgres', q{
DO $$ BEGIN
	RAISE LOG 'plain note 1, 2 and 3.5 at 2026-01-01 10:00:00.5'
		USING DETAIL = 'version 15.3, port 5432', HINT = 'rows 7, 8 of [9]';
END $$;
});
($ret, $out, $err) = $node->psql('postgres', q{SELECT 1/0 AS plain_check, '[1]' AS one, 2.5 AS two});
like($err, qr/division by zero/, 'the plain error reached the client');
$log = slurp_file($node->logfile, $log_start);
like($log, qr/\] \S+ LOG:  plain note 1, 2 and 3\.5 at 2026-01-01 10:00:00\.5\n/,
	'a message with nothing to redact is logged unchanged');
like($log, qr/DETAIL:  version 15\.3, port 5432\n/, 'its detail is unchanged');
like($log, qr/HINT:  rows 7, 8 of \[9\]\n/, 'its hint is unchanged');
like($log, qr/\] \S+ ERROR:  division by zero\n.*STATEMENT:  SELECT 1\/0 AS plain_check, '\[1\]' AS one, 2\.5 AS two\n/,
	'an error and its statement with nothing to redact are logged unchanged');
unlike($log, qr/redacted/, 'nothing was redacted');

# 8. A vector in any one part of a message is redacted in that part: the
#    message, DETAIL, HINT, CONTEXT, the internal QUERY, the STATEMENT.
#    vtext() computes the vector, so it is in that part only.
my @computed = ('0.1234321', '0.2468642', '0.3702963');
$node->safe_psql('postgres', q{
CREATE FUNCTION vtext() RETURNS text LANGUAGE sql AS $$
	SELECT '[' || string_agg((g * 0.1234321)::numeric(8,7)::text, ',' ORDER BY g) || ']'
	FROM generate_series(1, 3) g $$;
});
$log_start = -s $node->logfile;
$node->safe_psql('postgres', q{DO $$ BEGIN RAISE LOG 'part message %', vtext(); END $$});
$node->safe_psql('postgres', q{DO $$ BEGIN RAISE LOG 'part detail' USING DETAIL = 'holds ' || vtext(); END $$});
$node->safe_psql('postgres', q{DO $$ BEGIN RAISE LOG 'part hint' USING HINT = 'holds ' || vtext(); END $$});
$node->safe_psql('postgres', q{DO $$ BEGIN EXECUTE format('SELECT warn_me() WHERE %L IS NOT NULL', vtext()); END $$});
($ret, $out, $err) = $node->psql('postgres', q{DO $$ BEGIN EXECUTE format('SELECT %L +', vtext()); END $$});
like($err, qr/syntax error/, 'the client got the syntax error of the internal query');
($ret, $out, $err) = $node->psql('postgres', "SELECT 1/0 AS part_statement, '[$computed[0],$computed[1],$computed[2]]' AS v");
$log = slurp_file($node->logfile, $log_start);
like($log, qr/LOG:  part message \[<redacted 3 numbers>\]\n[^\n]*CONTEXT:  PL\/pgSQL function/,
	'a vector in the message is redacted');
like($log, qr/LOG:  part detail\n[^\n]*DETAIL:  holds \[<redacted 3 numbers>\]\n/,
	'a vector in the detail is redacted');
like($log, qr/LOG:  part hint\n[^\n]*HINT:  holds \[<redacted 3 numbers>\]\n/,
	'a vector in the hint is redacted');
like($log, qr/LOG:  WARNING: checking\n[^\n]*CONTEXT:  [^\n]*\n(?:\t[^\n]*\n)*?\tSQL statement "SELECT warn_me\(\) WHERE '\[<redacted 3 numbers>\]' IS NOT NULL"/,
	'a vector in the context is redacted');
like($log, qr/LOG:  ERROR: syntax error at end of input\n(?:[^\n]*\n)*?[^\n]*internal query: SELECT '\[<redacted 3 numbers>\]' \+/,
	'a vector in the internal query is redacted');
like($log, qr/LOG:  ERROR: division by zero\n[^\n]*CONTEXT:  statement: SELECT 1\/0 AS part_statement, '\[<redacted 3 numbers>\]' AS v\n\tbiometric-looking values redacted by frt\n/,
	'a vector in the statement is redacted');
for my $s (@computed)
{
	unlike($log, qr/\Q$s\E/, "computed value $s is not in the server log");
}
my $copies = () = $log =~ /LOG:  part message /g;
is($copies, 1, 'a redacted message is logged once (no recursion, no duplicate)');

# 9. A FATAL error (the backend exits after reporting it) whose statement
#    holds a vector: the copy is logged, and the backend exits cleanly.
$log_start = -s $node->logfile;
($ret, $out, $err) = $node->psql('postgres',
	"SELECT pg_terminate_backend(pg_backend_pid()) WHERE '[$computed[2],$computed[1],$computed[0]]' IS NOT NULL");
isnt($ret, 0, 'the session was terminated');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server still accepts connections');
$log = slurp_file($node->logfile, $log_start);
like($log, qr/LOG:  FATAL: terminating connection due to administrator command\n[^\n]*CONTEXT:  statement: SELECT pg_terminate_backend\(pg_backend_pid\(\)\) WHERE '\[<redacted 3 numbers>\]' IS NOT NULL\n/,
	'a FATAL error is logged as a redacted copy');
unlike($log, qr/\Q$computed[2]\E/, 'the FATAL error\'s statement is not in the server log');
unlike($log, qr/server process .* terminated by signal|was terminated by signal/, 'no backend crashed');

# 10. Other renderings of a vector: line breaks (CR LF, or \n written as
#     text) between the numbers, blank- or semicolon-separated numbers (as
#     numpy prints them), quoted elements, JSON arrays with exponents, and
#     bind parameters of other types, in the statement, in a bind
#     parameters DETAIL, and in the "unnamed portal" CONTEXT of an error
#     (log_parameter_max_length left at its default, no limit).
my @rendered = ('0.7111111', '0.7222222', '0.7333333', '0.6111111', '0.6222222', '0.6333333',
	'0.5111111', '0.5222222', '5.5333333e-3', '0.4111111', '0.4222222', '0.4333333',
	'0.4444444', '0.3111111', '0.3222222', '0.3333333', '0.2111111', '0.2222222');
$log_start = -s $node->logfile;
# CR LF between the numbers, in a value that is read (statement logged)
$node->safe_psql('postgres', "SELECT '[0.7111111,\r\n-0.7222222,\r\n0.7333333]'::frt.face_embedding");
# \n and \r\n written as text (an E'' literal, a JSON string), and an error
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT E'[0.7111111\n-0.7222222\r\n0.7333333]'::frt.face_embedding});
like($err, qr/invalid input syntax for type face_embedding/, 'client got the syntax error');
$node->safe_psql('postgres', q{SELECT '{"v": "0.6111111\n-0.6222222\r\n0.6333333"}'::jsonb});
# numpy's blank-separated form, with an ellipsis, and semicolons
$node->safe_psql('postgres', q{SELECT length('[ 0.5111111 -0.5222222  0.4111111 ...]')});
$node->safe_psql('postgres', q{SELECT length('0.4222222 -0.4333333 0.4444444 0.3111111')});
$node->safe_psql('postgres', q{SELECT length('0.3222222; -0.3333333; 0.2111111')});
# quoted elements
$node->safe_psql('postgres', q{SELECT ARRAY['0.7111111','-0.7222222','0.7333333']::real[]::frt.face_embedding});
$node->safe_psql('postgres', q{SELECT '{"0.6111111","-0.6222222","0.6333333"}'::real[]});
# JSON arrays, with exponents
$node->safe_psql('postgres', q{SELECT '{"probe": [0.5111111, -0.5222222, 5.5333333e-3]}'::jsonb});
# an error whose DETAIL and CONTEXT hold the value (RAISE in a function)
($ret, $out, $err) = $node->psql('postgres', q{
DO $$ BEGIN RAISE EXCEPTION 'bad probe' USING DETAIL = format('probe %s', '[ 0.2111111 -0.2222222 0.4111111]'); END $$;
});
like($err, qr/bad probe/, 'client got the raised error');
# bind parameters of other types (text in numpy's form, jsonb, real[],
# one parameter per component), logged as "parameters: $1 = '...'"
$node->pgbench(
	"--no-vacuum --client=1 --transactions=1 -M extended",
	0, [qr{processed: 1/1}], [qr{^$}],
	'vectors of other types bound as parameters',
	{
		"052_render_params" => q{
SELECT '[ 0.3111111 -0.3222222  0.3333333 ...]' AS np, '{"v": [0.4111111, -0.4222222, 4.4333333e-3]}' AS js,
	'{"0.5111111","-0.5222222","0.4444444"}' AS ra,
	round(5.5 / 9, 7) AS c1, round(-5.6 / 9, 7) AS c2, round(5.7 / 9, 7) AS c3 \gset
SELECT length(:np::text), :js::jsonb, :ra::real[];
SELECT :c1::float8 + :c2::float8 + :c3::float8;
}
	});
# errors while a portal with such parameters runs: CONTEXT "unnamed portal
# with parameters: $1 = '...'", and a parameter refused at bind time
$node->pgbench(
	"--no-vacuum --client=1 --transactions=1 -M extended",
	2, [qr{}], [qr{division by zero}],
	'an error while bound parameters hold a vector',
	{
		"052_render_portal" => q{
SELECT '[0.2111111,\n-0.2222222,\n0.7111111]' AS probe \gset
SELECT 1/0 WHERE length(:probe::text) > 0;
}
	});
$node->pgbench(
	"--no-vacuum --client=1 --transactions=1 -M extended",
	2, [qr{}], [qr{invalid input syntax for type face_embedding}],
	'a vector parameter refused at bind time',
	{
		"052_render_bind" => q{
SELECT '[0.7222222; 0.7333333; 0.5111111]' AS probe \gset
SELECT :probe::frt.face_embedding;
}
	});
$log = slurp_file($node->logfile, $log_start);
like($log, qr/parameters: \$1 = '\[ <redacted 3 numbers> \.\.\.\]'/, 'a numpy-style text parameter is redacted');
like($log, qr/parameters: \$1 = '<redacted 3 numbers>'\n/, 'one parameter per component is redacted');
like($log, qr/CONTEXT:  unnamed portal with parameters: \$1 = '\[<redacted 3 numbers>\]'/,
	'the unnamed portal context is redacted');
like($log, qr/unnamed portal parameter \$1 = '\[<redacted 3 numbers>\]'/,
	'the bind-time parameter context is redacted');
like($log, qr/DETAIL:  probe \[ <redacted 3 numbers>\]/, 'an error detail is redacted');
for my $s (@rendered)
{
	(my $digits = $s) =~ s/^0\.|e-3$//g;
	unlike($log, qr/\Q$digits\E/, "rendered value $s is not in the server log");
}

# ... and ordinary messages still pass unchanged: timestamps, IP addresses,
# short lists of ids, a few version numbers, semicolon-separated settings.
$log_start = -s $node->logfile;
$node->safe_psql('postgres', q{
DO $$ BEGIN
	RAISE LOG 'ordinary at 2026-01-01 10:00:00.5; from 192.168.1.10 10.0.0.2; ids 1 2 3; 4, 5; versions 15.3 14.8 13.11'
		USING DETAIL = 'work_mem=4MB; 0.5 s; 1.5 s', HINT = 'retry 1; 2; then 3';
END $$;
});
$log = slurp_file($node->logfile, $log_start);
like($log, qr/\] \S+ LOG:  ordinary at 2026-01-01 10:00:00\.5; from 192\.168\.1\.10 10\.0\.0\.2; ids 1 2 3; 4, 5; versions 15\.3 14\.8 13\.11\n[^\n]*DETAIL:  work_mem=4MB; 0\.5 s; 1\.5 s\n[^\n]*HINT:  retry 1; 2; then 3\n/,
	'an ordinary message is logged unchanged');
unlike($log, qr/redacted/, 'nothing in it was redacted');

# The check can fail: with the filter off the value is logged.
$log_start = -s $node->logfile;
$node->safe_psql('postgres', "SET frt.log_redact = off; SELECT '$vec'::frt.face_embedding");
$log = slurp_file($node->logfile, $log_start);
like($log, qr/\Q$secret[0]\E/, 'with frt.log_redact = off the value is logged (the test can fail)');

# Only a superuser can turn the filter off.
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
($ret, $out, $err) = $node->psql('postgres', 'SET frt.log_redact = off', extra_params => ['-U', 'app']);
like($err, qr/permission denied to set parameter "frt.log_redact"/, 'ordinary role cannot turn the filter off');

$node->stop;
done_testing();
