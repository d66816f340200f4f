# Every refusal under the Measures (SQLSTATE class MF) is raised through one
# helper: frt._refuse() in SQL (src/registry/40_functions.sql), FrtRefuse()
# in C (include/frt_refuse.h, src/audit/refuse.c).  Reads the source tree
# only (no cluster) and fails on a refusal code used any other way:
#   - MAKE_SQLSTATE('M','F',...) outside include/frt_refuse.h;
#   - in C, a refusal code macro used other than as FrtRefuse's first
#     argument, or a string literal "MF..." / 'MF...';
#   - in SQL, a literal 'MF...' other than as _refuse's first argument (or
#     in WHEN SQLSTATE, which catches), or ERRCODE set from anything but a
#     literal outside the definitions of _refuse and of _reject (its
#     sibling for rejected input, which raises any class but MF);
#   - anything left of the old class FR.
# sql/gov_refusals.sql checks the installed functions the same way.
use strict;
use warnings;
use Cwd ();
use File::Basename qw(dirname);
use File::Find;
use File::Spec;
use Test::More;

my $root = Cwd::realpath($ENV{TESTDIR} // dirname(__FILE__) . "/../..");
ok(-f "$root/include/frt_refuse.h" && -d "$root/src", "source tree at $root")
	or BAIL_OUT("cannot find the source tree (set TESTDIR)");

my $header = 'include/frt_refuse.h';
my $c_helper = 'src/audit/refuse.c';
my $sql_helper = 'src/registry/40_functions.sql';

my @files;
find({ no_chdir => 1, wanted => sub {
	push @files, File::Spec->abs2rel($_, $root) if -f $_ && /\.(c|h|sql)$/;
} }, "$root/src", "$root/include");
@files = sort @files;

sub slurp
{
	my ($rel) = @_;
	open my $fh, '<', "$root/$rel" or die "$rel: $!";
	local $/;
	return scalar <$fh>;
}

# Line number of offset $pos in $text.
sub line_of { my ($text, $pos) = @_; return 1 + (substr($text, 0, $pos) =~ tr/\n//); }

# Every match of $re in $text as "file:line: excerpt", unless $allow (a
# code ref given the text before the match and the match) accepts it.
sub offenders
{
	my ($rel, $text, $re, $allow) = @_;
	my @out;
	while ($text =~ /$re/g)
	{
		my ($start, $match) = ($-[0], $&);
		next if $allow && $allow->(substr($text, 0, $start), $match);
		my $line = line_of($text, $start);
		my ($excerpt) = (split /\n/, $text, -1)[$line - 1];
		$excerpt =~ s/^\s+|\s+$//g;
		push @out, "$rel:$line: $excerpt";
	}
	return @out;
}

sub none_ok
{
	my ($name, @found) = @_;
	ok(!@found, $name) or diag(join "\n", @found);
}

# The refusal codes C may raise: the MF macros of the header.
my $h = slurp($header);
my @macros = $h =~ /^#define\s+(\w+)\s+MAKE_SQLSTATE\(\s*'M'\s*,\s*'F'/mg;
ok(scalar(grep { /^FRT_ERRCODE_/ } @macros) >= 2, "$header defines the C refusal codes: @macros");
like($h, qr/extern void FrtRefuse\(/, "$header declares FrtRefuse()");
like(slurp($c_helper), qr/^FrtRefuse\(/m, "$c_helper defines FrtRefuse()");

# The SQL helper's definition, cut out of its file below.
my $sql_def_re = qr/CREATE FUNCTION \@extschema\@\._refuse\(.*?^\$\$;/ms;
my $sql_def = (slurp($sql_helper) =~ /($sql_def_re)/)[0];
ok(defined $sql_def, "$sql_helper defines frt._refuse()");
like($sql_def // '', qr/CONSTRAINT\s*=/, 'frt._refuse() sets the CONSTRAINT field');
my $reject_def_re = qr/CREATE FUNCTION \@extschema\@\._reject\(.*?^\$\$;/ms;
my $reject_def = (slurp($sql_helper) =~ /($reject_def_re)/)[0];
ok(defined $reject_def, "$sql_helper defines frt._reject()");
like($reject_def // '', qr/'MF'/, 'frt._reject() will not raise a refusal code');

my (@make, @c_macro, @c_literal, @sql_literal, @sql_errcode, @old);
my ($sql_calls, $c_calls) = (0, 0);
my $macro_re = @macros ? join('|', map { quotemeta } @macros) : '(?!)';
for my $rel (@files)
{
	my $text = slurp($rel);

	# the old class, in code and comments alike
	push @old, offenders($rel, $text,
		qr/MAKE_SQLSTATE\(\s*'F'\s*,\s*'R'|['"]FR[0-9A-Z]{3}['"]|\bFR[01][0-9]{2}\b/);

	push @make, offenders($rel, $text, qr/MAKE_SQLSTATE\(\s*'M'\s*,\s*'F'/)
		unless $rel eq $header;

	if ($rel =~ /\.[ch]$/ && $rel ne $header && $rel ne $c_helper)
	{
		$c_calls += () = $text =~ /\bFrtRefuse\(\s*(?:$macro_re)\b/g;
		push @c_macro, offenders($rel, $text, qr/\b(?:$macro_re)\b/,
			sub { $_[0] =~ /\bFrtRefuse\(\s*\z/ });
		push @c_literal, offenders($rel, $text, qr/["']MF[0-9A-Z]{3}["']/);
	}
	elsif ($rel =~ /\.sql$/)
	{
		$text =~ s/$sql_def_re/'-- (frt._refuse) ' . ("\n" x ($& =~ tr|\n||))/e
			if $rel eq $sql_helper;
		$text =~ s/$reject_def_re/'-- (frt._reject) ' . ("\n" x ($& =~ tr|\n||))/e
			if $rel eq $sql_helper;
		$sql_calls += () = $text =~ /_refuse\(\s*'MF[0-9A-Z]{3}'/g;
		push @sql_literal, offenders($rel, $text, qr/'MF[0-9A-Z]{3}'/,
			sub { $_[0] =~ /(?:_refuse\(\s*|WHEN\s+SQLSTATE\s+)\z/i });
		push @sql_errcode, offenders($rel, $text, qr/\bERRCODE\s*:?=\s*[^,;]*/i,
			sub { $_[1] =~ /=\s*'[^']*'\s*\z/ && $_[1] !~ /=\s*'MF/i });
	}
}

cmp_ok($c_calls, '>', 0, "C raises refusals through FrtRefuse() ($c_calls calls)");
cmp_ok($sql_calls, '>', 0, "SQL raises refusals through frt._refuse() ($sql_calls calls)");
none_ok("MAKE_SQLSTATE('M','F',...) only in $header", @make);
none_ok('C uses a refusal code only as the first argument of FrtRefuse()', @c_macro);
none_ok('C names no MF SQLSTATE as a string', @c_literal);
none_ok("SQL names an MF SQLSTATE only as frt._refuse()'s first argument (or in WHEN SQLSTATE)", @sql_literal);
none_ok('SQL sets ERRCODE only to a literal other than MF..., outside frt._refuse()', @sql_errcode);
none_ok('nothing is left of the old class FR', @old);

done_testing();
