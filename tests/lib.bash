# Common set-up for every bats file: assertion libraries and the binaries under test.
# Usage at the top of a .bats file:  load lib
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

: "${RTCS_TOP:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${RTCS_BIN:=$RTCS_TOP/build/bin}"
export RTCS_TOP RTCS_BIN
PATH="$RTCS_BIN:$PATH"
export NO_COLOR=1

# A private, short temporary directory (UNIX socket paths must stay short).
rtcs_tmpdir() {
	mktemp -d /tmp/rtcs.XXXXXX
}

# require_cmd CMD PACKAGE: skips the test, saying why in one line, when CMD
# is not installed (PACKAGE is the Debian package of tools/packages* that has it).
require_cmd() {
	command -v "$1" >/dev/null 2>&1 ||
		skip "$1 not installed (Debian package $2, $(grep -lx -- "- $2" "$RTCS_TOP"/tools/packages* 2>/dev/null | head -n 1 | sed "s|^$RTCS_TOP/||"))"
}

# require_tier TIER: skips unless every package of tools/packages-TIER is installed.
require_tier() {
	local pkg missing=
	while read -r pkg; do
		case $pkg in ''|'#'*) continue ;; esac
		pkg=${pkg#- }
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $pkg"
	done <"$RTCS_TOP/tools/packages-$1"
	[ -z "$missing" ] || skip "needs the $1 tier (make deps-$1):$missing not installed"
}

# The path of a test tool built under $RTCS_O/tools (mk/xtests.mk).
rtcs_tool() {
	case ${RTCS_O:-build} in
	/*) echo "$RTCS_O/tools/$1" ;;
	*) echo "$RTCS_TOP/${RTCS_O:-build}/tools/$1" ;;
	esac
}
