#!/bin/bash
# Server-side time of whole transfers (request -> images -> confirm -> switch):
# runs N push transfers with curl against a private rtcs-serve -vv and sums
# the per-call times the server logs at debug level ("METHOD PATTERN: N us").
# usage: bench/transfer-time.sh [PROOF] [CONFIRM] [N] [SYNC]
#   e.g. bench/transfer-time.sh scanner none 100; bench/transfer-time.sh both origin 100 always
set -eu
proof=${1:-scanner} confirm=${2:-none} n=${3:-100} sync=${4:-always}
: "${RTCS_BIN:=$(cd "$(dirname "$0")/.." && pwd)/build/bin}"
d=$(mktemp -d /tmp/rtcs.XXXXXX)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$d"' EXIT
mkfifo "$d/ready"
"$RTCS_BIN/rtcs-serve" -S "$d/run/s" -D "$d/store" -vv --sync "$sync" --ready-fd 3 \
    3>"$d/ready" 2>"$d/log" &
pid=$!
read -r _ <"$d/ready"
c() { curl -sS --unix-socket "$d/run/s" -H 'Content-Type: application/json' "$@"; }
for ((i = 0; i < n; i++)); do
	out=$(c -X POST --data '{"participants":[{"name":"alice","device":"alice-phone"},{"name":"bob","device":"bob-pc"}]}' http://rtcs/v1/sessions)
	sid=$(jq -r .session.id <<<"$out")
	tok=$(jq -r '.tokens["alice-phone"]' <<<"$out")
	r=$(c -X POST -H "Authorization: Bearer $tok" \
	    --data "{\"session\":\"$sid\",\"proof\":\"$proof\",\"confirm\":\"$confirm\"}" http://rtcs/v1/transfers)
	id=$(jq -r .transfer.id <<<"$r")
	p=$(jq -r .payload <<<"$r")
	if [ "$proof" = both ]; then
		c -X POST -H "Authorization: Bearer $tok" --data "{\"device\":\"alice-phone\",\"payload\":\"$p\"}" \
		    "http://rtcs/v1/transfers/$id/image" >/dev/null
	fi
	r=$(c -X POST --data "{\"device\":\"alice-tablet\",\"payload\":\"$p\"}" "http://rtcs/v1/transfers/$id/image")
	if [ "$confirm" = origin ]; then
		r=$(c -X POST -H "Authorization: Bearer $tok" --data "{\"match\":\"$(jq -r .match <<<"$r")\"}" \
		    "http://rtcs/v1/transfers/$id/confirm")
	fi
	[ "$(jq -r .transfer.state <<<"$r")" = completed ] || { echo "transfer $id: $r" >&2; exit 1; }
done
# One transfer = the transfer calls between two session creations.
awk '/: [0-9]+ us$/ && / \/v1\/sessions:/ { if (seen) print cur; cur = 0; seen = 1; next }
	/: [0-9]+ us$/ && / \/v1\/transfers/ { cur += $(NF - 1) }
	END { print cur }' "$d/log" | sort -n |
    awk -v what="$proof/$confirm sync=$sync" '{ t[NR] = $1 }
	END { printf "%s: %d transfers, server time median %.2f ms, p90 %.2f ms\n", what, NR,
	    t[int((NR + 1) / 2)] / 1000, t[int(NR * 0.9)] / 1000 }'
