#!/usr/bin/env bats
# tools/configure.sh and the package tiers: each goal installs only its tier,
# quietly (one line a step, apt's output in a log), without Recommends.
# apt-get, dpkg-query and id are stand-ins on PATH: nothing is installed.
bats_require_minimum_version 1.5.0
load lib

setup() {
	T=$(rtcs_tmpdir)
	mkdir -p "$T/bin"
	# dpkg-query: every package is missing until the fake apt-get "installs" it.
	cat >"$T/bin/dpkg-query" <<-EOF
	#!/bin/bash
	case "\$*" in
	*Installed-Size*) n=\$(wc -l <"$T/installed" 2>/dev/null || echo 0); for ((i = 0; i < 100 + n * 3; i++)); do echo 1024; done; exit 0 ;;
	esac
	pkg=\${!#}
	grep -qx -- "\$pkg" "$T/installed" 2>/dev/null && { printf 'install ok installed'; exit 0; }
	exit 1
	EOF
	# apt-get: records its arguments, talks a lot, "installs" what it is given.
	cat >"$T/bin/apt-get" <<-EOF
	#!/bin/bash
	echo "\$*" >>"$T/apt-calls"
	for ((i = 0; i < 300; i++)); do echo "Unpacking something-\$i ..."; done
	[ "\$1" = install ] || exit 0
	for a in "\$@"; do case \$a in -*|install|Dpkg*) ;; *) echo "\$a" >>"$T/installed" ;; esac; done
	EOF
	printf '#!/bin/sh\necho "${RTCS_FAKE_UID:-0}"\n' >"$T/bin/id"
	chmod +x "$T/bin/"*
	export PATH="$T/bin:$PATH"
}

teardown() { rm -rf "$T"; }

tier_packages() {
	awk '!/^#/ && NF { print $2 }' "$RTCS_TOP/tools/packages${1:+-$1}"
}

@test "packages: make check installs its tier with --no-install-recommends, one line a step, apt's output in the log" {
	run --separate-stderr sh "$RTCS_TOP/tools/configure.sh" --log "$T/apt.log" --install check
	assert_success
	assert_output ''
	# the terminal: what is installed and where the log is, then the sum
	[ "$(grep -c . <<<"$stderr")" -le 3 ] || fail "too chatty: $stderr"
	assert_equal "$(sed -n 1p <<<"$stderr")" \
	    "rtcs: make check: installing $(tier_packages check | tr '\n' ' ' | sed 's/ $//') (apt-get's output: $T/apt.log)"
	[[ $(tail -n 1 <<<"$stderr") =~ ^rtcs:\ installed\ [0-9]+\ packages,\ [0-9]+\ MiB$ ]] || fail "$stderr"
	# apt's own output is in the log only
	[ "$(grep -c Unpacking "$T/apt.log")" -ge 300 ]
	run cat "$T/apt-calls"
	assert_line --partial 'install -y -q --no-install-recommends'
	refute_line --partial 'update'
}

@test "packages: a second run installs nothing and says nothing" {
	sh "$RTCS_TOP/tools/configure.sh" --log "$T/apt.log" --install check 2>/dev/null
	rm -f "$T/apt-calls"
	run sh "$RTCS_TOP/tools/configure.sh" --log "$T/apt.log" --install check
	assert_success
	assert_output ''
	assert_file_not_exist "$T/apt-calls"
}

@test "packages: a failed install refreshes the lists once, then shows the end of the log" {
	printf '#!/bin/sh\necho "$*" >>%s/apt-calls\n[ "$1" = update ] && exit 0\necho "E: Unable to locate package"\nexit 100\n' "$T" >"$T/bin/apt-get"
	run --separate-stderr sh "$RTCS_TOP/tools/configure.sh" --log "$T/apt.log" --install bench
	assert_failure 1
	run cat "$T/apt-calls"
	assert_equal "${#lines[@]}" 3	# install, update, install
	assert_line --index 1 'update -q'
}

@test "packages: as another user, a missing build package stops with the line to run; another tier's does not" {
	export RTCS_FAKE_UID=1000
	run --separate-stderr sh "$RTCS_TOP/tools/configure.sh" --log "$T/apt.log"
	assert_failure 1
	[[ $stderr == *"apt-get install -y --no-install-recommends libevent-dev"* ]] || fail "$stderr"
	run --separate-stderr sh "$RTCS_TOP/tools/configure.sh" --log "$T/apt.log" --install check
	assert_success
	[[ $stderr == *"the tests that need them skip"* ]] || fail "$stderr"
	assert_file_not_exist "$T/apt-calls"
}

@test "packages: the build tier holds no test, fuzz or bench tool; each tier names real files" {
	local heavy pkg
	for pkg in $(tier_packages check) $(tier_packages clang) $(tier_packages bench); do
		case $pkg in jq) continue ;; esac	# make demo prints with jq, the bench reads with it
		! tier_packages | grep -qx -- "$pkg" || fail "$pkg is in the build tier"
	done
	for heavy in 'clang.*' '.*llvm.*' systemd 'nginx.*' xvfb 'etcd.*' sox zsh fish 'bats.*'; do
		! tier_packages | grep -qxE -- "$heavy" || fail "the build tier has $heavy"
	done
}

@test "packages: every package a test asks for with require_cmd is in a tier" {
	local pkg
	for pkg in $(grep -hoE '^[[:space:]]+require_cmd [^ ]+ [a-z0-9.+-]+' "$RTCS_TOP"/tests/*.bats "$RTCS_TOP"/tests/*.bash |
	    awk '{ print $3 }' | sort -u); do
		grep -qx -- "- $pkg" "$RTCS_TOP"/tools/packages* || fail "$pkg is in no tools/packages* file"
	done
}
