#!/bin/bash
# Another client's reads while uploads decode (design.md 8.1): starts a private
# rtcs-serve, posts four uploads of a 4096x4096 noise PNG (about 0.8 MiB of
# body each, no code in it) at once, and times GET /v1/health on its own
# connection while a decoder is busy. Prints "P99_US N NOTE" on one line.
# usage: bench/upload-read.sh [N-READS]   (bench/run emits it as upload.read_p99_us)
set -eu
n=${1:-200}
: "${RTCS_BIN:=$(cd "$(dirname "$0")/.." && pwd)/build/bin}"
d=$(mktemp -d /tmp/rtcs.XXXXXX)
pid=
trap '[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }; rm -rf "$d"' EXIT
mkfifo "$d/ready"
"$RTCS_BIN/rtcs-serve" -S "$d/run/s" -D "$d/store" --sync none --ready-fd 3 \
    3>"$d/ready" 2>"$d/log" &
pid=$!
read -r _ <"$d/ready"
c() { curl -sS --unix-socket "$d/run/s" -H 'Content-Type: application/json' "$@"; }
out=$(c -X POST --data '{"participants":[{"name":"alice","device":"alice-phone"},{"name":"bob","device":"bob-pc"}]}' http://rtcs/v1/sessions)
sid=$(jq -r .session.id <<<"$out")
tok=$(jq -r '.tokens["alice-phone"]' <<<"$out")
tid=$(c -X POST -H "Authorization: Bearer $tok" \
    --data "{\"session\":\"$sid\",\"proof\":\"scanner\",\"confirm\":\"none\"}" \
    http://rtcs/v1/transfers | jq -r .transfer.id)
convert -size 2048x2048 xc:gray50 +noise Random -colorspace Gray -threshold 50% \
    -filter point -resize 4096x4096 -type Grayscale "$d/noise.png"
printf '{"device":"alice-tablet","image":"%s"}' "$(base64 -w0 "$d/noise.png")" >"$d/body.json"
ups=()
for i in 1 2 3 4; do
	c -o /dev/null --data-binary "@$d/body.json" "http://rtcs/v1/transfers/$tid/image" &
	ups+=($!)
done
# Reads start once a decoder is busy; only those answered while one still is count.
until c http://rtcs/v1/health | jq -e '.decode.busy > 0' >/dev/null; do :; done
: >"$d/lat"
for ((i = 0; i < n; i++)); do
	line=$(c -w ' %{time_total}\n' http://rtcs/v1/health)
	jq -e '.decode.busy > 0' >/dev/null <<<"${line% *}" || break
	echo "${line##* }" >>"$d/lat"
done
wait "${ups[@]}" 2>/dev/null || true
got=$(wc -l <"$d/lat")
[ "$got" -gt 0 ] || { echo "nan 0 no read answered while a decoder was busy"; exit 0; }
p99=$(sort -g "$d/lat" | awk -v n="$got" '{ a[NR] = $1 } END { i = int(n * 0.99 + 0.999); if (i < 1) i = 1; printf "%.0f", a[i] * 1e6 }')
echo "$p99 $got GET /v1/health (curl time_total) while 4 uploads of $(( $(stat -c %s "$d/body.json") / 1024 )) KiB decode (2 workers)"
