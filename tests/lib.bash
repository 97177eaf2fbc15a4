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

# The path of a test tool built under $RTCS_O/tools (mk/xtests.mk).
rtcs_tool() {
	case ${RTCS_O:-build} in
	/*) echo "$RTCS_O/tools/$1" ;;
	*) echo "$RTCS_TOP/${RTCS_O:-build}/tools/$1" ;;
	esac
}
