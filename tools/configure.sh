#!/bin/sh
# Makes sure every Debian package rtcs needs is there, then prints the
# pkg-config flags as a makefile fragment on stdout.
set -u
here=$(dirname "$0")
missing=""
while read -r pc pkg; do
	case "$pc" in ''|'#'*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $pkg"
	fi
done < "$here/packages"
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "rtcs: installing:$missing" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2 && apt-get install -y -qq $missing >&2 || {
			echo "rtcs: apt-get install failed for:$missing" >&2; exit 1; }
	else
		echo "rtcs: missing packages; run as root:" >&2
		echo "  apt-get install -y$missing" >&2
		exit 1
	fi
fi
pcs=$(awk '!/^#/ && $1 != "-" && NF {print $1}' "$here/packages" | tr '\n' ' ')
cflags=$(pkg-config --cflags $pcs) || exit 1
libs=$(pkg-config --libs $pcs) || exit 1
echo "PKG_CFLAGS = $cflags"
echo "PKG_LIBS = $libs"
