#!/usr/bin/env bash
# Runs every example's demo against a fresh `atoll serve` of that example:
# for each examples/**/demo/package.json, the example is the demo's parent
# directory. The demo's data files (demo/data/DB.COLL.json, Extended JSON)
# are loaded with `atoll import` into a new embedded store, the server is
# started on a free loopback port, and `npm run demo` runs with
# ATOLL_BASE_URL and ATOLL_APP_ID set, and ATOLL_SERVER_API_KEY holding a
# server API key made for the demo (an administrator's credential: demos
# use it, through the api-key provider, where the scenario needs an admin). A demo asserts every step; any
# failure fails this script. Usage: scripts/demos.sh [EXAMPLE_DIR...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

work=$(mktemp -d -t atoll-demos.XXXXXX)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/atoll" ./cmd/atoll

if [ $# -gt 0 ]; then
	examples=("$@")
else
	mapfile -t examples < <(find examples -path '*/node_modules' -prune -o -path '*/demo/package.json' -print | sort | sed 's#/demo/package.json$##')
fi
[ ${#examples[@]} -gt 0 ] || { echo "no demos under examples/"; exit 1; }

failed=()
for ex in "${examples[@]}"; do
	ex=${ex%/}
	printf '\n--- demo: %s\n' "$ex"
	data="$work/data-$(echo "$ex" | tr / _)"
	log="$data.log"
	mkdir -p "$data"
	if [ -d "$ex/demo/data" ]; then
		for f in "$ex"/demo/data/*.json; do
			[ -e "$f" ] || continue
			base=$(basename "$f" .json)
			"$work/atoll" import --data "$data" --db "${base%%.*}" --collection "${base#*.}" "$f"
		done
	fi
	api_key=$("$work/atoll" apikeys create --data "$data" --name demo-admin 2>/dev/null | sed -n 's/^key: *//p')
	app_id=$(node -e 'const r=require(process.argv[1]); console.log(r.app_id || r.name)' "$root/$ex/root_config.json" 2>/dev/null \
		|| node -e 'const r=require(process.argv[1]); console.log(r.app_id || r.name)' "$root/$ex/realm_config.json")
	"$work/atoll" serve --app "$ex" --data "$data" --addr 127.0.0.1:0 --log-format text 2>"$log" &
	server_pid=$!
	url=""
	for _ in $(seq 1 300); do
		url=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$log" | head -1 | sed 's/listening on //') || true
		[ -n "$url" ] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	ok=1
	if [ -z "$url" ]; then
		echo "atoll serve did not start:"; cat "$log"; ok=0
	else
		npm ci --prefix "$ex/demo" --no-audit --no-fund --silent
		if ! ATOLL_BASE_URL="$url" ATOLL_APP_ID="$app_id" ATOLL_SERVER_API_KEY="$api_key" timeout 300 npm run --silent demo --prefix "$ex/demo"; then
			ok=0
			echo "--- server log (last 40 lines):"; tail -40 "$log"
		fi
	fi
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
	[ $ok = 1 ] || failed+=("$ex")
done

if [ ${#failed[@]} -gt 0 ]; then
	printf '\nfailed demos: %s\n' "${failed[*]}"
	exit 1
fi
printf '\nall %d demos passed\n' "${#examples[@]}"
