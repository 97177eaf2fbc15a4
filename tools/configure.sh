#!/bin/sh
# Makes sure the Debian packages of one or more tiers are installed, then
# (build tier) prints the pkg-config flags as a makefile fragment on stdout.
#
#   sh tools/configure.sh [--log FILE]                 the build tier; config.mk on stdout
#   sh tools/configure.sh [--log FILE] --install TIER...   check, clang or bench; no stdout
#
# Tiers: build (tools/packages: make, make demo), check (tools/packages-check:
# make check), clang (tools/packages-clang: make fuzz, make sanitize), bench
# (tools/packages-bench: make bench). As root the missing packages are
# installed with apt-get --no-install-recommends, its output in the log file
# (default /tmp/rtcs-apt.log), one line a step on stderr. As another user a
# missing build package stops with the apt-get line to run; a missing package
# of another tier is reported and the goal goes on (the tests that need it
# skip and say why).
set -u
here=$(dirname "$0")
log=/tmp/rtcs-apt.log
install_only=
while [ $# -gt 0 ]; do
	case $1 in
	--log) log=$2; shift 2 ;;
	--install) install_only=1; shift ;;
	*) break ;;
	esac
done
[ -n "$install_only" ] || set -- build
[ $# -gt 0 ] || { echo "rtcs: configure.sh --install needs a tier: check, clang or bench" >&2; exit 64; }

say() { echo "rtcs: $*" >&2; }

tier_file() {
	case $1 in
	build) echo "$here/packages" ;;
	check|clang|bench) echo "$here/packages-$1" ;;
	*) say "configure.sh: unknown tier '$1' (build, check, clang, bench)"; exit 64 ;;
	esac
}

tier_goal() {
	case $1 in
	build) echo "make" ;;
	check) echo "make check" ;;
	clang) echo "make fuzz and make sanitize" ;;
	bench) echo "make bench" ;;
	esac
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Every package of the tiers not installed yet, each once.
missing=""
goals=""
for tier in "$@"; do
	f=$(tier_file "$tier")
	goals="$goals${goals:+, }$(tier_goal "$tier")"
	while read -r pc pkg; do
		case "$pc" in ''|'#'*) continue ;; esac
		case " $missing " in *" $pkg "*) continue ;; esac
		installed "$pkg" || missing="$missing $pkg"
	done < "$f"
done

# Sum of the installed packages' sizes in KiB, and their number.
disk() { dpkg-query -W -f='${Installed-Size}\n' 2>/dev/null | awk '{n++; s+=$1} END {print n+0, s+0}'; }

apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "$@"
}

if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		mkdir -p "$(dirname "$log")"
		: > "$log"
		set -- $(disk)
		n0=$1 k0=$2
		say "$goals: installing$missing (apt-get's output: $log)"
		# Stale or empty package lists: refresh them once and try again.
		if ! apt_install $missing >> "$log" 2>&1; then
			say "apt-get update (the package lists were stale or missing)"
			{ apt-get update -q && apt_install $missing; } >> "$log" 2>&1 || {
				say "apt-get install failed for:$missing; the end of $log:"
				tail -n 8 "$log" | sed 's/^/    /' >&2
				exit 1
			}
		fi
		set -- $(disk)
		say "installed $(($1 - n0)) packages, $((($2 - k0 + 512) / 1024)) MiB"
	elif [ -z "$install_only" ]; then
		say "missing packages for $goals; as root run:"
		say "  apt-get install -y --no-install-recommends$missing"
		exit 1
	else
		say "missing packages for $goals (the tests that need them skip); as root:"
		say "  apt-get install -y --no-install-recommends$missing"
	fi
fi
[ -n "$install_only" ] && exit 0

pcs=$(awk '!/^#/ && $1 != "-" && NF {print $1}' "$here/packages" | tr '\n' ' ')
cflags=$(pkg-config --cflags $pcs) || exit 1
libs=$(pkg-config --libs $pcs) || exit 1
echo "PKG_CFLAGS = $cflags"
echo "PKG_LIBS = $libs"
