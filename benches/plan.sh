#!/usr/bin/env bash
# Analysis and planning benchmark (issue 3): one dockreorder process
# analyses and plans every file of ../shared/corpus/real-world (static
# estimate, --no-history). Best of 5 wall times; target: under 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=../shared/corpus/real-world
if [ ! -f "$CORPUS/MANIFEST.tsv" ]; then
	echo "SKIPPED: $CORPUS not found"
	exit 0
fi
cargo build --release --quiet
BIN=$PWD/target/release/dockreorder
cd "$CORPUS"
mapfile -t FILES < <(tail -n +2 MANIFEST.tsv | cut -f1)
best=999
for _ in 1 2 3 4 5; do
	s=$(date +%s.%N)
	"$BIN" --no-history --format json "${FILES[@]}" >/dev/null 2>&1 || true
	e=$(date +%s.%N)
	best=$(python3 -c "print(min($best, $e - $s))")
done
bytes=$(cat "${FILES[@]}" | wc -c)
echo "files: ${#FILES[@]}, bytes: $bytes"
echo "analyse + plan (+ JSON report) of all files in one process: best ${best}s (target < 1 s)"
