#!/usr/bin/env bash
# Self-test and demo of the Docker test tools (needs a running engine: run setup.sh first).
# Builds a small pip project with a cache-friendly and a cache-hostile Dockerfile, checks
# the per-step cache report after a source change, and checks compare-images.sh on
# equivalent and different images. Exit 0 when every check passes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DOCKER:-}" ]; then
	if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
export DOCKER
BASE=dockreorder-selftest-base:latest
nonce=$(date +%s%N)
tmp=$(mktemp -d /tmp/dockreorder-selftest.XXXXXX)
cleanup() {
	local ids
	ids=$("$DOCKER" images -q --filter 'reference=dockreorder-st-*' | sort -u)
	[ -z "$ids" ] || "$DOCKER" rmi -f $ids >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
check() {   # check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1"
		echo "  expected:"; printf '%s\n' "$2" | sed 's/^/    /'
		echo "  actual:"; printf '%s\n' "$3" | sed 's/^/    /'
		failures=$((failures + 1))
	fi
}
steps() {   # steps DOCKERFILE TAG [BUILD_ARGS...]
	local df=$1 tag=$2
	shift 2
	bash "$here/cache-steps.sh" "$tmp/ctx" "$df" "$tag" -- "$@" 2>/dev/null
}

# a base of our own, so no other test's builds can serve ours
bash "$here/build-base.sh" --variant "$BASE"

mkdir -p "$tmp/ctx"
printf 'flask==3.0\nrequests\n' >"$tmp/ctx/requirements.txt"
printf 'print("hello")\n' >"$tmp/ctx/app.py"
cat >"$tmp/good.Dockerfile" <<EOF
FROM $BASE
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY . .
EOF
cat >"$tmp/naive.Dockerfile" <<EOF
FROM $BASE
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
EOF

echo "== cache behaviour after a source change"
steps "$tmp/good.Dockerfile" dockreorder-st-good-1 >/dev/null
steps "$tmp/naive.Dockerfile" dockreorder-st-naive-1 >/dev/null
printf 'print("changed %s")\n' "$nonce" >"$tmp/ctx/app.py"
out=$(steps "$tmp/good.Dockerfile" dockreorder-st-good-2)
printf '%s\n' "$out" | sed 's/^/    /'
check "good Dockerfile: only COPY . . rebuilt" "CACHED WORKDIR /app
CACHED COPY requirements.txt ./
CACHED RUN pip install -r requirements.txt
RUN COPY . ." "$out"
out=$(steps "$tmp/naive.Dockerfile" dockreorder-st-naive-2)
printf '%s\n' "$out" | sed 's/^/    /'
check "naive Dockerfile: pip install rebuilt" "CACHED WORKDIR /app
RUN COPY . .
RUN RUN pip install -r requirements.txt" "$out"

echo "== image comparison"
set +e
out=$(bash "$here/compare-images.sh" dockreorder-st-good-2 dockreorder-st-naive-2); rc=$?
check "good and naive builds of the same sources are equivalent (exit 0)" 0 "$rc"
out=$(bash "$here/compare-images.sh" dockreorder-st-good-1 dockreorder-st-good-2); rc=$?
check "builds before/after the change differ (exit 1)" 1 "$rc"
check "... and the difference is app.py" "  /app/app.py: content differs" "$(printf '%s\n' "$out" | tail -n +2)"
steps "$tmp/good.Dockerfile" dockreorder-st-good-3 --no-cache >/dev/null
out=$(bash "$here/compare-images.sh" dockreorder-st-good-2 dockreorder-st-good-3); rc=$?
check "two uncached builds of one Dockerfile are equivalent (determinism)" 0 "$rc"

printf 'FROM %s\nENV A=1\nENV B=2\nUSER nobody\n' "$BASE" >"$tmp/env1.Dockerfile"
printf 'FROM %s\nENV B=2\nENV A=1\nUSER nobody\n' "$BASE" >"$tmp/env2.Dockerfile"
printf 'FROM %s\nENV A=1\nENV B=3\nUSER nobody\n' "$BASE" >"$tmp/env3.Dockerfile"
printf 'FROM %s\nENV A=1\nENV B=2\n' "$BASE" >"$tmp/env4.Dockerfile"
for i in 1 2 3 4; do steps "$tmp/env$i.Dockerfile" "dockreorder-st-env-$i" >/dev/null; done
bash "$here/compare-images.sh" dockreorder-st-env-1 dockreorder-st-env-2 >/dev/null; rc=$?
check "ENV order does not matter (exit 0)" 0 "$rc"
out=$(bash "$here/compare-images.sh" dockreorder-st-env-1 dockreorder-st-env-3); rc=$?
check "ENV value matters (exit 1)" "1 config Env B: A=\"2\" B=\"3\"" "$rc $(printf '%s\n' "$out" | sed -n '2s/^ *//p')"
out=$(bash "$here/compare-images.sh" dockreorder-st-env-1 dockreorder-st-env-4); rc=$?
check "USER matters (exit 1)" "1 config User: A=\"nobody\" B=null" "$rc $(printf '%s\n' "$out" | sed -n '2s/^ *//p')"
set -e

if [ "$failures" -gt 0 ]; then
	echo "selftest: $failures check(s) failed"
	exit 1
fi
echo "selftest: all checks passed"
