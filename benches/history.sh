#!/usr/bin/env bash
# History walk benchmark (issues 4 and 13) on a generated repository shaped
# like a real one: N first-parent commits (default 20,000; git fast-import,
# then `git gc --aggressive` so trees and blobs are delta-compressed as in a
# clone), a deep and wide tree (a service `svc/` with packages six levels
# deep, a vendored `svc/vendor/` the .dockerignore excludes, a second
# service, docs and tools outside the contexts: about 6,000 files), most
# commits changing one to three files, some a few dozen, and about one in
# 500 thousands of files (a vendor update, a reformat of a whole package
# tree). The .dockerignore changes a few times. Three Dockerfiles: svc/
# (context svc), api/ (context api) and the root one (context .).
#
# Measured in the same run, median of $RUNS wall times each:
#   git log --first-parent --no-renames --name-only --format=%H -- svc
#   dockreorder --format json svc/Dockerfile          (one Dockerfile, whole run)
#   git log ... -- .                                  (the widest context)
#   dockreorder --format json .                       (all three Dockerfiles)
# the ratios, and dockreorder's peak RSS (targets of issue 13: one
# Dockerfile <= 0.5x its git log, all Dockerfiles <= 1.5x one git log,
# RSS < 200 MB). The machine may be shared: read medians.
#
# usage: benches/history.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
RUNS=${RUNS:-5}
WORK=${BENCH_DIR:-/tmp/dockreorder-bench-history}
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/dockreorder
if [ ! -x /usr/bin/time ]; then
	apt-get install -y -qq time >/dev/null 2>&1 || true
fi
REPO=$WORK/shaped-$N
if [ ! -f "$REPO/.done" ]; then
	rm -rf "$REPO"; mkdir -p "$REPO"
	git init -q "$REPO"
	python3 - "$N" <<'PY' | (cd "$REPO" && git fast-import --quiet)
import sys
n = int(sys.argv[1])
out = sys.stdout
rng = 7
def nxt():
    global rng
    rng ^= (rng << 13) & 0xFFFFFFFFFFFFFFFF
    rng ^= rng >> 7
    rng ^= (rng << 17) & 0xFFFFFFFFFFFFFFFF
    return rng
def pick(seq):
    return seq[nxt() % len(seq)]
# The tree: svc/src/<a>/<b>/<c>/<d>/<e>/f.py (deep), svc/vendor (wide,
# excluded), api/ (a second service), docs/ and tools/ (outside).
svc = [f"svc/src/p{a}/m{b}/k{c}/d{d}/e{e}/f{f}.py"
       for a in range(6) for b in range(5) for c in range(4) for d in range(3) for e in range(2) for f in range(2)]
vendor = [f"svc/vendor/lib{a}/pkg{b}/mod{c}.go" for a in range(40) for b in range(10) for c in range(6)]
api = [f"api/app/r{a}/h{b}.js" for a in range(30) for b in range(25)]
docs = [f"docs/s{a}/t{b}/page{c}.md" for a in range(20) for b in range(10) for c in range(5)]
tools = [f"tools/t{a}/x{b}.sh" for a in range(50) for b in range(8)]
manifests = ["svc/requirements.txt", "svc/pyproject.toml", "api/package.json", "api/package-lock.json"]
files = svc + vendor + api + docs + tools
dockerfiles = {
    "svc/Dockerfile": 'FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt pyproject.toml ./\nRUN pip install -r requirements.txt\nCOPY src/ ./src/\nCOPY . .\nCMD ["python", "-m", "app"]\n',
    "api/Dockerfile": 'FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "app/r0/h0.js"]\n',
    "Dockerfile": 'FROM alpine\nCOPY tools/ /tools/\nCOPY docs/s1 /docs/\nCOPY svc/src/p1/*/k2 /k2/\n',
}
ignores = ["vendor\n*.md\n", "vendor\n!vendor/lib1\n**/*.tmp\n", "vendor\nsrc/p5\n!src/p5/m1\n"]
def blob(path, body):
    out.write(f"M 100644 inline {path}\ndata {len(body)}\n{body}\n")
t = 1600000000
for i in range(n):
    t += 60
    out.write(f"commit refs/heads/main\nmark :{i+1}\ncommitter t <t@example.com> {t} +0000\ndata 4\nc{i%100:02}\n")
    if i:
        out.write(f"from :{i}\n")
    if i == 0:
        for f in files + manifests:
            blob(f, f"{f}\n0\n")
        for p, text in dockerfiles.items():
            blob(p, text)
        blob("svc/.dockerignore", ignores[0])
        continue
    r = nxt()
    k = r % 1000
    if k < 2:
        # A vendor update or a reformat: thousands of files.
        group = vendor if k == 0 else svc
        for f in group:
            if nxt() % 3:
                blob(f, f"{f}\n{i}\n")
    elif k < 30:
        # A feature across the tree: a few dozen files.
        for _ in range(20 + nxt() % 40):
            f = pick(files)
            blob(f, f"{f}\n{i}\n")
    elif k < 40:
        blob(pick(manifests), f"dep {i}\n")
    elif k < 42:
        blob(pick(list(dockerfiles)), dockerfiles[pick(list(dockerfiles))] + f"# {i}\n")
    elif k == 42:
        blob("svc/.dockerignore", pick(ignores))
    else:
        for _ in range(1 + nxt() % 3):
            f = pick(svc) if nxt() % 2 else pick(files)
            blob(f, f"{f}\n{i}\n")
PY
	git -C "$REPO" checkout -q -f main
	git -C "$REPO" gc -q --aggressive
	touch "$REPO/.done"
fi
echo "repository: $REPO ($(git -C "$REPO" rev-list --count HEAD) commits, $(git -C "$REPO" ls-files | wc -l) files, $(du -sh "$REPO/.git/objects" | cut -f1) of objects)"
median() { # median wall time in seconds of $RUNS runs of "$@"
	local ts=()
	for _ in $(seq "$RUNS"); do
		local s e
		s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
		ts+=("$(python3 -c "print($e - $s)")")
	done
	printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
cd "$REPO"
GIT_SVC=$(median git log --first-parent --no-renames --name-only --format=%H -- svc)
ONE=$(median "$BIN" --format json svc/Dockerfile)
GIT_ALL=$(median git log --first-parent --no-renames --name-only --format=%H -- .)
ALL=$(median "$BIN" --format json .)
printf '%-44s %8.3f s\n' "git log ... -- svc" "$GIT_SVC" \
	"dockreorder svc/Dockerfile" "$ONE" \
	"git log ... -- ." "$GIT_ALL" \
	"dockreorder . (3 Dockerfiles)" "$ALL"
"$BIN" --format json svc/Dockerfile | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print("commits walked:", d["history"]["commits_walked"])'
if [ -x /usr/bin/time ]; then
	echo "peak RSS: one $(( $(rss "$BIN" --format json svc/Dockerfile) / 1024 )) MiB, all $(( $(rss "$BIN" --format json .) / 1024 )) MiB"
fi
python3 -c "print('ratio one Dockerfile / its git log: %.2f (target <= 0.5)' % ($ONE/$GIT_SVC))"
python3 -c "print('ratio all Dockerfiles / git log -- svc: %.2f, / git log -- .: %.2f (target <= 1.5)' % ($ALL/$GIT_SVC, $ALL/$GIT_ALL))"
