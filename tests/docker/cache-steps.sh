#!/usr/bin/env bash
# Build an image with BuildKit and report, per build step, whether it came from the cache.
#
# usage: cache-steps.sh [--fresh] [--log FILE] [--with-stage] [--with-network]
#                       CONTEXT DOCKERFILE TAG [-- BUILD_ARGS...]
#
# Runs   DOCKER_BUILDKIT=1 $DOCKER build --progress=plain --network=none \
#            -f DOCKERFILE -t TAG [BUILD_ARGS] CONTEXT
# and prints one line per step, in Dockerfile order (stages in FROM order, then step number):
#     CACHED <instruction text>     step served from the build cache
#     RUN <instruction text>        step executed
# Only steps BuildKit executes appear: RUN, COPY, ADD, WORKDIR (one line each). FROM lines are
# not reported (a local base image is never "built"); metadata-only instructions (ENV, ARG,
# LABEL, EXPOSE, USER, CMD, ENTRYPOINT, ...) never appear; stages the target does not need
# are skipped by BuildKit and do not appear either. The instruction text is BuildKit's
# (continuation lines joined).
# A summary "cache-steps: N steps, C cached" goes to stderr. Exit status: 0 when the build
# succeeded, 1 when it failed (the end of the build log goes to stderr), 2 on usage error.
#
#   --fresh       `docker builder prune -af` first, so no earlier build can serve this one.
#                 The build cache is global to the engine: never use --fresh while another
#                 build on the same engine is in progress (serialize Docker tests).
#   --log FILE    keep the full BuildKit log in FILE
#   --with-stage  print "CACHED [stage i/n] text" (BuildKit's step label) instead
#   --with-network  do not pass --network=none. By default RUN steps get no network: the
#                 fakes need none, nothing is reachable anyway, and with a daemon started
#                 with --bridge=none (setup.sh fallback) BuildKit RUN fails otherwise
#                 ("network bridge not found"). The network mode is part of BuildKit's
#                 cache key, so use the same choice for builds that should share cache.
# Environment: DOCKER (client binary; default /usr/bin/docker when present, else docker).
# BuildKit is needed for meaningful answers: with Debian's docker.io 20.10 the Debian client
# (/usr/bin/docker) drives the daemon's built-in BuildKit; a newer client without the buildx
# plugin (e.g. a stray /usr/local/bin/docker 28.x) can only use the legacy builder.
set -euo pipefail

if [ -z "${DOCKER:-}" ]; then
	if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi

fresh=; log=; with_stage=; with_net=
while [ $# -gt 0 ]; do
	case $1 in
	--fresh) fresh=1 ;;
	--log) log=$2; shift ;;
	--with-stage) with_stage=1 ;;
	--with-network) with_net=1 ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) break ;;
	-*) echo "cache-steps.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
if [ $# -lt 3 ]; then
	echo "usage: cache-steps.sh [--fresh] [--log FILE] [--with-stage] [--with-network] CONTEXT DOCKERFILE TAG [-- BUILD_ARGS...]" >&2
	exit 2
fi
context=$1 dockerfile=$2 tag=$3
shift 3
[ "${1:-}" = -- ] && shift
[ -d "$context" ] || { echo "cache-steps.sh: no such context directory: $context" >&2; exit 2; }
[ -f "$dockerfile" ] || { echo "cache-steps.sh: no such Dockerfile: $dockerfile" >&2; exit 2; }

if [ -n "$fresh" ]; then
	"$DOCKER" builder prune -af >/dev/null
fi

tmplog=$(mktemp /tmp/cache-steps.XXXXXX)
trap 'rm -f "$tmplog"' EXIT
status=0
netargs=(--network=none)
[ -n "$with_net" ] && netargs=()
DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain "${netargs[@]}" -f "$dockerfile" -t "$tag" "$@" "$context" >"$tmplog" 2>&1 || status=$?
[ -z "$log" ] || cp "$tmplog" "$log"
if [ "$status" -ne 0 ]; then
	echo "cache-steps.sh: docker build failed (exit $status); end of the log:" >&2
	tail -n 40 "$tmplog" >&2
	exit 1
fi

python3 - "$tmplog" "$dockerfile" "$with_stage" <<'PY'
import re, sys

log_path, dockerfile, with_stage = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

# stage order from the Dockerfile's FROM lines; BuildKit labels unnamed stages "stage-<index>"
stages = []
with open(dockerfile, encoding="utf-8", errors="replace") as f:
    for line in f:
        m = re.match(r"\s*FROM\s+(?:--\S+\s+)*\S+(?:\s+AS\s+(\S+))?\s*$", line, re.I)
        if m:
            stages.append((m.group(1) or "stage-%d" % len(stages)).lower())

# "#12 [builder 3/5] RUN ..." ; step numbers are space-padded when there are >= 10 steps
header = re.compile(r"^#(\d+) \[(?:(\S+)\s+)?\s*(\d+)/(\d+)\] (.*)$")
steps, status = {}, {}
with open(log_path, encoding="utf-8", errors="replace") as f:
    for line in f:
        line = line.rstrip("\n")
        m = header.match(line)
        if m:
            vid, stage, i, n, text = m.groups()
            steps.setdefault(vid, (stage or "", int(i), int(n), text))
            continue
        m = re.match(r"^#(\d+) (CACHED|DONE|ERROR)\b", line)
        if m and m.group(1) in steps:
            vid, what = m.groups()
            if what == "CACHED" or status.get(vid) not in ("CACHED", "ERROR"):
                status[vid] = what

def order(item):
    vid, (stage, i, n, text) = item
    s = stages.index(stage.lower()) if stage.lower() in stages else len(stages)
    return (s, i, int(vid))

total = cached = 0
for vid, (stage, i, n, text) in sorted(steps.items(), key=order):
    if re.match(r"FROM\s", text, re.I):
        continue
    st = status.get(vid, "DONE")
    word = {"CACHED": "CACHED", "DONE": "RUN", "ERROR": "ERROR"}[st]
    total += 1
    cached += word == "CACHED"
    label = "[%s%d/%d] " % (stage + " " if stage else "", i, n) if with_stage else ""
    print("%s %s%s" % (word, label, text))
print("cache-steps: %d steps, %d cached" % (total, cached), file=sys.stderr)
PY
