# The dependency direction between layers and extensions, checked on the
# source tree (no cluster): the layers of each extension form a stack
# (a layer uses only what the layers below it, or the extension it
# requires, define), the core never refers to the governance extension,
# C files include only the headers of their own or lower layers, and the
# code shared with the SQLite edition (src/common, src/chain, sqlite/)
# includes no PostgreSQL header.
use strict;
use warnings;
use File::Basename qw(dirname);
use Test::More;

my $root = $ENV{TESTDIR} // dirname(__FILE__) . '/../..';
chdir $root or die "cannot chdir to $root";

# Layers bottom-up: the core's, then the governance extension's.
my @layers = qw(common type kernels operators index chain audit keys registry jobs intrusion);
my %rank;
@rank{@layers} = 0 .. $#layers;
my %core = map { $_ => 1 } qw(common type kernels operators index);

# Which layers each makefile builds, and that they match the order above.
sub mk_layers
{
	my ($mk) = @_;
	open my $fh, '<', $mk or die "$mk: $!";
	while (<$fh>) { return split ' ', $1 if /^LAYERS\s*=\s*(.*)$/; }
	die "no LAYERS in $mk";
}
is_deeply([ mk_layers('mk/frt.mk') ], [qw(common type kernels operators index)], 'core layers in mk/frt.mk');
is_deeply([ mk_layers('mk/frt_governance.mk') ], [qw(chain audit keys registry jobs intrusion)],
	'governance layers in mk/frt_governance.mk');

sub slurp
{
	my ($f) = @_;
	open my $fh, '<', $f or die "$f: $!";
	local $/;
	return <$fh>;
}

# SQL objects: where each is defined, and who refers to it.  A name
# defined in several layers (an overload) counts as the lowest one's.
my (%def, @refs);
my $create = qr/CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNIQUE\s+|UNLOGGED\s+|TEMP\s+|TEMPORARY\s+|MATERIALIZED\s+)?(?:FUNCTION|PROCEDURE|TABLE|VIEW|INDEX|SEQUENCE|TYPE|DOMAIN|AGGREGATE|OPERATOR\s+CLASS|OPERATOR\s+FAMILY|ACCESS\s+METHOD)\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\@extschema\@\.|frt\.)?(\w+)/i;
for my $l (@layers)
{
	for my $f (sort glob("src/$l/*.sql"))
	{
		my $t = slurp($f);
		$t =~ s/--[^\n]*//g;
		while ($t =~ /$create/g) { $def{$1} //= $l; }
		while ($t =~ /CREATE\s+(?:UNIQUE\s+)?INDEX\s+(\w+)\s+ON/gi) { $def{$1} //= $l; }
		# qualified references (@extschema@.name or frt.name), unqualified
		# calls of internal functions (_name(...)), and names in string
		# literals (format('%I.%I', ..., 'name'), TG_TABLE_NAME checks)
		push @refs, [ $l, $f, $1 ] while $t =~ /(?:\@extschema\@|\bfrt)\.(\w+)/g;
		push @refs, [ $l, $f, $1 ] while $t =~ /(?<![.\w])(_\w+)\s*\(/g;
		push @refs, [ $l, $f, $1 ] while $t =~ /'(\w*_\w*)'/g;
	}
}
ok(scalar(keys %def) > 100, 'found the SQL objects of every layer');
my @up;
for my $r (@refs)
{
	my ($l, $f, $name) = @$r;
	my $d = $def{$name} or next;
	push @up, "$f ($l) uses $name of layer $d" if $rank{$d} > $rank{$l};
}
my %seen;
@up = grep { !$seen{$_}++ } @up;
is(scalar(@up), 0, 'no SQL fragment refers to an object of a higher layer')
  or diag(join("\n", @up));

# C string literals (SQL built in C) follow the same rule, except in each
# extension's names module (*names.c), the one place that spells the names
# of the extension's SQL objects for every layer.
my @c_up;
for my $l (@layers)
{
	for my $f (grep { !/names\.c$/ } sort glob("src/$l/*.c"))
	{
		my $t = slurp($f);
		$t =~ s{/\*.*?\*/}{}gs;
		while ($t =~ /"((?:[^"\\]|\\.)*)"/g)
		{
			my $lit = $1;
			for my $name ($lit =~ /\b(\w*_\w*)\b/g)
			{
				my $d = $def{$name} or next;
				push @c_up, "$f ($l) names $name of layer $d in a string" if $rank{$d} > $rank{$l};
			}
		}
	}
}
is(scalar(@c_up), 0, 'no C string names an SQL object of a higher layer') or diag(join("\n", @c_up));

# C: a layer includes only its own and lower layers' headers.
my %header_layer = (
	'frt_embedding.h' => 'type',
	'frt_common.h' => 'common',
	'frt_kernels.h' => 'common',
	'frt_quant.h' => 'common',
	'frt_embtext.h' => 'common',
	'frt_chain.h' => 'chain',
	'frt_ivf.h' => 'index',
	'frt_audit.h' => 'audit',
	'frt_jobs.h' => 'jobs',
	'frt_keys.h' => 'keys',
	'frt_cipher.h' => 'index',
	'frt_governance.h' => 'audit',
	'frt_refuse.h' => 'audit',
	'frt_gov_names.h' => 'audit',
	'frt_names.h' => 'type',
	'frt_compat.h' => 'type',
	'frt_nls.h' => 'type',		# included first by every C file (mk/common.mk)
	'frt.h' => 'type');
my @bad;
for my $l (@layers)
{
	for my $f (sort glob("src/$l/*.c"), sort glob("src/$l/*.h"))
	{
		my $t = slurp($f);
		while ($t =~ /#include\s+"(frt\w*\.h)"/g)
		{
			my $h = $1;
			my $hl = $header_layer{$h};
			if (!defined $hl)
			{
				push @bad, "$f includes $h, which belongs to no known layer (add it to this test)";
				next;
			}
			push @bad, "$f ($l) includes $h of layer $hl" if $rank{$hl} > $rank{$l};
		}
	}
}
# The core's own sources never name the governance extension's headers.
for my $f (sort(glob('src/frt.c')), map { glob("src/$_/*.[ch]") } grep { $core{$_} } @layers)
{
	my $t = slurp($f);
	push @bad, "$f (core) includes $1" while $t =~ /#include\s+"(frt_(?:governance|audit|jobs)\w*\.h)"/g;
}
is(scalar(@bad), 0, 'no C file includes a header of a higher layer or of the governance extension')
  or diag(join("\n", @bad));

# The code the SQLite edition compiles includes no PostgreSQL header: only
# the C library, OpenSSL, SIMDe, SQLite and the PostgreSQL-free frt headers.
my %pg_free = map { $_ => 1 } qw(frt_common.h frt_kernels.h frt_quant.h frt_embtext.h frt_chain.h);
my @pg;
for my $f (sort(glob('src/common/*.[ch]'), glob('src/chain/*.[ch]'), glob('sqlite/*.[ch]')),
	map { "include/$_" } sort keys %pg_free)
{
	my $t = slurp($f);
	while ($t =~ /#include\s+[<"]([^>"]+)[>"]/g)
	{
		my $h = $1;
		next if $pg_free{$h} || $h =~ /^(?:sq_\w+\.h|kernels_body\.h|sqlite3(?:ext)?\.h|openssl\/\w+\.h|simde\/[\w\/]+\.h)$/;
		next if $h =~ /^(?:std\w+|string|math|float|errno|limits|time|unistd|fcntl|assert|ctype|inttypes|pthread|sys\/\w+)\.h$/;
		push @pg, "$f includes $h";
	}
}
my @shared = glob('src/common/*.c');
ok(scalar(@shared) >= 3, 'the shared code is in src/common');
is(scalar(@pg), 0, 'the code shared with the SQLite edition includes no PostgreSQL header')
  or diag(join("\n", @pg));

# The core's SQL never refers to a governance object or role.
my @core_gov;
for my $l (grep { $core{$_} } @layers)
{
	for my $f (sort glob("src/$l/*.sql"))
	{
		my $t = slurp($f);
		$t =~ s/--[^\n]*//g;
		push @core_gov, "$f names $1" while $t =~ /\b(frt_(?:admin|enroller|matcher|auditor|audit_relay|governance))\b/g;
	}
}
is(scalar(@core_gov), 0, 'the core SQL names no governance role or extension')
  or diag(join("\n", @core_gov));

# Symbols: an object file of a layer uses only Frt* functions defined by
# its own or a lower layer (built trees only).
my %sym_layer;
my @objs;
for my $l (@layers)
{
	for my $o (sort glob("src/$l/*.o"))
	{
		push @objs, [ $l, $o ];
		for (`nm --defined-only $o 2>/dev/null`)
		{
			$sym_layer{$1} //= $l if /\s[TDBR]\s+((?:Frt|frt_)\w+)$/;
		}
	}
}
SKIP:
{
	skip 'no object files (tree not built)', 1 unless @objs;
	my @sym_up;
	for my $lo (@objs)
	{
		my ($l, $o) = @$lo;
		for (`nm --undefined-only $o 2>/dev/null`)
		{
			next unless /\sU\s+((?:Frt|frt_)\w+)$/;
			my $d = $sym_layer{$1} or next;
			push @sym_up, "$o ($l) calls $1 of layer $d" if $rank{$d} > $rank{$l};
		}
	}
	is(scalar(@sym_up), 0, 'no object file calls a function of a higher layer')
	  or diag(join("\n", @sym_up));
}

done_testing();
