# Helpers shared by the TAP tests of frt_governance.
package FrtGovTest;

use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path);

our @EXPORT = qw(gov_keys gov_authorize gov_new_key gov_put_file);

# A random key of $bytes bytes, in hex.
sub gov_new_key
{
	my ($bytes) = @_;
	return join('', map { sprintf('%02x', int(rand(256))) } 1 .. $bytes);
}

# Write $text to $path with $mode (a key file, outside any data directory); returns $path.
sub gov_put_file
{
	my ($path, $text, $mode) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh;
	chmod $mode, $path;
	return $path;
}

# Give a node the encryption settings frt_governance needs to seal faces:
# a root key file and a keyring directory, both outside the data directory
# (next to it, in the node's base directory).  A standby made from a backup
# of the node inherits the settings, so it uses the same key and keyring.
# Returns the keyring directory.
sub gov_keys
{
	my ($node, %opt) = @_;
	my $dir = $opt{dir} // $node->basedir . '/keys';
	make_path("$dir/keyring");
	chmod 0700, $dir, "$dir/keyring";
	my $keyfile = "$dir/root.key";
	gov_put_file($keyfile, gov_new_key(32) . "\n", 0600) unless -e $keyfile;
	my $conf = "frt.encryption_key_file = '$keyfile'\nfrt.encryption_keyring = '$dir/keyring'\n";
	$conf .= "frt.encryption_suite = '$opt{suite}'\n" if $opt{suite};
	$node->append_conf('postgresql.conf', $conf);
	return "$dir/keyring";
}

# Authorize a role (a login or a group role) for every operation on every
# registered purpose and bind it to every registered device (application
# authorization, Measures Art. 14), in database $opt{db} (default postgres).
sub gov_authorize
{
	my ($node, $role, %opt) = @_;
	$node->safe_psql($opt{db} // 'postgres', qq{
		SELECT count(frt.grant_application('$role', name, ARRAY['enrol', 'verify', 'identify', 'export']))
		FROM frt.purpose;
		SELECT count(frt.bind_device(name, '$role')) FROM frt.device;
	});
	return;
}

1;
