#!/usr/bin/env bash
# Seeds the fuzz corpora (gitignored; never commit them):
#   fuzz/corpus/parse/       BuildKit conformance Dockerfiles + the 392 real-world files
#   fuzz/corpus/parse-long/  lines around the 64 KiB physical-line limit
# Usage: fuzz/seed.sh [SHARED_CORPUS_DIR]   (default ../shared/corpus from the crate root)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
C=${1:-$ROOT/../shared/corpus}
OUT=$ROOT/fuzz/corpus/parse
LONG=$ROOT/fuzz/corpus/parse-long
mkdir -p "$OUT" "$LONG"

n=0
while IFS= read -r -d '' f; do
    rel=${f#"$C"/buildkit-parser/}
    cp "$f" "$OUT/bk_${rel//\//__}"
    n=$((n + 1))
done < <(find "$C/buildkit-parser" -name Dockerfile -print0)
while IFS= read -r p; do
    [[ -n $p ]] || continue
    cp "$C/real-world/$p" "$OUT/rw_${p//\//__}"
    n=$((n + 1))
done < <(tail -n +2 "$C/real-world/MANIFEST.tsv" | cut -f1)
echo "copied $n seeds into $OUT"

rep() { head -c "$2" /dev/zero | tr '\0' "$1"; } # rep CHAR COUNT
for total in 65535 65536 65537; do
    { printf 'FROM x\nRUN '; rep a $((total - 5)); printf '\nRUN b\n'; } >"$LONG/run_$total"
    { printf 'FROM x\r\nRUN '; rep a $((total - 6)); printf '\r\nRUN b\r\n'; } >"$LONG/run_${total}_crlf"
    { printf 'FROM x\nRUN '; rep a $((total - 5)); } >"$LONG/run_${total}_noeol"
    { printf 'FROM x\n#'; rep c $((total - 2)); printf '\nRUN b\n'; } >"$LONG/comment_$total"
    { printf 'FROM x\nRUN a \\\n'; rep b $((total - 1)); printf '\nRUN c\n'; } >"$LONG/cont_$total"
    { printf 'FROM x\nRUN <<EOF\n'; rep h $((total - 1)); printf '\nEOF\nRUN c\n'; } >"$LONG/heredoc_$total"
    { printf '# syntax='; rep s $((total - 10)); printf '\nFROM x\n'; } >"$LONG/directive_$total"
    { printf 'FROM x\nRUN '; for ((i = 0; i < (total - 5) / 2; i++)); do printf '\xc3\xa9'; done; printf '\n'; } >"$LONG/utf8_$total"
done
{ for i in 1 2 3; do printf 'RUN '; rep x 40000; printf ' \\\n'; done; printf 'y\n'; } >"$LONG/long_many"
echo "wrote $(ls "$LONG" | wc -l) long-line seeds into $LONG"
