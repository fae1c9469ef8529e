#!/usr/bin/env bash
# History walk benchmark (issue 4): a generated repository of N commits
# (git fast-import; default 50,000) with a service directory `svc/` as the
# build context. Measures, in the same run:
#   - git log --first-parent --no-renames --name-only --format=%H -- svc
#   - dockreorder walking the same history for svc/Dockerfile (the whole
#     run: parse, walk, replay, plan), as --format json
# and the peak memory (RSS) of dockreorder. Best of 3 wall times.
#
# usage: benches/history.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50000}
WORK=${BENCH_DIR:-/tmp/dockreorder-bench-history}
cargo build --release --quiet
BIN=$PWD/target/release/dockreorder
if [ ! -x /usr/bin/time ]; then
	apt-get install -y -qq time >/dev/null 2>&1 || true
fi
REPO=$WORK/repo-$N
if [ ! -d "$REPO/.git" ]; then
	rm -rf "$REPO"; mkdir -p "$REPO"
	git init -q "$REPO"
	python3 - "$N" <<'PY' | (cd "$REPO" && git fast-import --quiet)
import sys
n = int(sys.argv[1])
out = sys.stdout
df = 'FROM base\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY app/ ./app/\nCMD ["python", "-m", "app"]\n'
rng = 7
def nxt():
    global rng
    rng ^= (rng << 13) & 0xFFFFFFFFFFFFFFFF
    rng ^= rng >> 7
    rng ^= (rng << 17) & 0xFFFFFFFFFFFFFFFF
    return rng
t = 1600000000
last = 0
mark = 0
for i in range(n):
    mark += 1; t += 60; this = mark
    out.write(f"commit refs/heads/main\nmark :{this}\ncommitter t <t@example.com> {t} +0000\ndata 4\nc{i%100:02}\n")
    if last: out.write(f"from :{last}\n")
    if i == 0:
        out.write(f"M 100644 inline svc/Dockerfile\ndata {len(df)}\n{df}\n")
        out.write("M 100644 inline svc/requirements.txt\ndata 6\nflask\n\n")
    r = nxt()
    body = f"{i}-{r}\n"
    k = r % 10
    if k == 0:
        out.write(f"M 100644 inline svc/requirements.txt\ndata {len(body)}\n{body}\n")
    elif k <= 5:
        out.write(f"M 100644 inline svc/app/m{r%40}.py\ndata {len(body)}\n{body}\n")
    elif k == 6:
        out.write(f"M 100644 inline svc/app/sub{r%7}/x{r%13}.py\ndata {len(body)}\n{body}\n")
    else:
        out.write(f"M 100644 inline other/d{r%30}/f{r%50}.txt\ndata {len(body)}\n{body}\n")
    last = this
PY
	git -C "$REPO" checkout -q -f main
fi
echo "repository: $REPO ($(git -C "$REPO" rev-list --count HEAD) commits)"
best() { # best wall time in seconds of 3 runs of "$@"
	local b=999999
	for _ in 1 2 3; do
		local s e
		s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
		b=$(python3 -c "print(min($b, $e - $s))")
	done
	echo "$b"
}
cd "$REPO"
GIT_T=$(best git log --first-parent --no-renames --name-only --format=%H -- svc)
OUR_T=$(best "$BIN" --format json svc/Dockerfile)
echo "git log --first-parent --no-renames --name-only -- svc: ${GIT_T}s"
echo "dockreorder --format json svc/Dockerfile:           ${OUR_T}s"
"$BIN" --format json svc/Dockerfile | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print("commits walked:", d["history"]["commits_walked"])'
if [ -x /usr/bin/time ]; then
	RSS=$(/usr/bin/time -v "$BIN" --format json svc/Dockerfile 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}')
	echo "dockreorder peak RSS: ${RSS} KiB ($(python3 -c "print(round($RSS/1024,1))") MiB)"
fi
python3 -c "print('ratio dockreorder/git log: %.2f' % ($OUR_T/$GIT_T))"
