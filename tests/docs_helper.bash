# Long options as --help, the man page and the completions spell them, one a
# line, sorted, so tests/docs.bats can compare them for every program.
#
# The conventions every program follows:
#   --help           lists each long option literally as --name (and mentions
#                    no option it does not take);
#   man/PROG.1       marks each long option as "Fl -name" (.It Fl -name,
#                    .Op Fl -name), and marks nothing else that way;
#   completions/bash/PROG and completions/zsh/_PROG
#                    spell each long option literally as --name;
#   completions/fish/PROG.fish
#                    declares each long option with "-l name" on a
#                    "complete" line.

# Lines of --name tokens read from stdin.
docs_dashdash() {
	grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

docs_help_opts() {
	"$1" --help | docs_dashdash
}

docs_man_opts() {
	grep -oE 'Fl -[a-z][a-z0-9-]*' "$1" | sed 's/^Fl -/--/' | sort -u
}

docs_bash_opts() {
	docs_dashdash < "$1"
}

docs_zsh_opts() {
	docs_dashdash < "$1"
}

docs_fish_opts() {
	grep -E '^[[:space:]]*complete[[:space:]]' "$1" |
	    grep -oE -- '(^|[[:space:]])-l[[:space:]]+[a-z][a-z0-9-]*' |
	    sed -E 's/.*-l[[:space:]]+/--/' | sort -u
}

# docs_compare PROG: prints every disagreement; empty output means all agree.
docs_compare() {
	local prog=$1 name help f kind
	name=$(basename "$prog")
	help=$(docs_help_opts "$prog") || { echo "$name: --help failed"; return; }
	[ -n "$help" ] || echo "$name: --help lists no long option"
	for kind in man bash zsh fish; do
		case $kind in
		man)  f=$RTCS_TOP/man/$name.1 ;;
		bash) f=$RTCS_TOP/completions/bash/$name ;;
		zsh)  f=$RTCS_TOP/completions/zsh/_$name ;;
		fish) f=$RTCS_TOP/completions/fish/$name.fish ;;
		esac
		if [ ! -f "$f" ]; then
			echo "$name: missing $f"
			continue
		fi
		diff <(echo "$help") <("docs_${kind}_opts" "$f") |
		    sed -n "s|^< |$name: in --help, not in $kind: |p; s|^> |$name: in $kind, not in --help: |p"
	done
}
