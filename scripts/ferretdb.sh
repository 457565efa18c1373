#!/usr/bin/env bash
# Builds FerretDB from the Go module proxy (tools/ferretdb is a throwaway
# module of its own) and starts it with its SQLite backend on a free
# loopback port. Sourced by scripts/test.sh; exports ATOLL_TEST_MONGODB_URI
# and stops FerretDB when the calling shell exits.

start_ferretdb() {
	local root dir port
	root=$(pwd)
	dir=$(mktemp -d -t atoll-ferretdb.XXXXXX)
	(cd "$root/tools/ferretdb" && go build -o "$dir/ferretdb" .)
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
		|| echo $((20000 + RANDOM % 20000)))
	"$dir/ferretdb" -listen "127.0.0.1:$port" -dir "$dir/data" -lifetime 90m >"$dir/ferretdb.log" 2>&1 &
	FERRETDB_PID=$!
	trap 'kill $FERRETDB_PID 2>/dev/null || true; rm -rf "'"$dir"'"' EXIT
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			export ATOLL_TEST_MONGODB_URI="mongodb://127.0.0.1:$port/"
			echo "FerretDB on $ATOLL_TEST_MONGODB_URI (pid $FERRETDB_PID)"
			return 0
		fi
		sleep 0.1
	done
	echo "FerretDB did not start:"; cat "$dir/ferretdb.log"; return 1
}
