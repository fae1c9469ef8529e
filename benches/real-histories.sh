#!/usr/bin/env bash
# History walk on real first-parent histories (issue 13): for each entry of
# /work/shared/corpus/real-histories (materialized with its materialize.py
# into $BENCH_DIR), the median of $RUNS wall times of
#   git log --first-parent --no-renames --name-only --format=%H -- <context>
#   dockreorder --format json --context <context> <dockerfile>   (whole run)
#   dockreorder --format json .          (every Dockerfile of the repository)
# and the walk alone (the "N commits walked in S s" line of the first run,
# from the walk's start until its result is collected: without the fixed
# cost of a run, which on a short history is most of it);
# the ratios to git log (targets of issue 13: one Dockerfile <= 0.5x, median
# over the repositories, never over 1.0x; all Dockerfiles <= 1.5x), the
# number of Dockerfiles, and dockreorder's peak RSS (< 200 MB). GC=1 repacks
# each materialized repository with `git gc --aggressive` first (deltas as
# in a clone; fast-import's pack has few). The machine may be shared: read
# medians, not single runs. FIRST=N measures each repository cut at its
# first N first-parent commits instead (a copy in $BENCH_DIR): on a history
# of tens of commits the ratio is the run's fixed cost against git log's.
#
# usage: benches/real-histories.sh [NAME...]   (default: the largest ones)
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-/work/shared/corpus/real-histories}
WORK=${BENCH_DIR:-/tmp/dockreorder-bench-real}
RUNS=${RUNS:-5}
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/dockreorder
NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(jspwiki aider typst etherpad-lite php-cs-fixer redash restic katana)
mkdir -p "$WORK"
median() { # median wall time in seconds of $RUNS runs of "$@"
	local ts=()
	for _ in $(seq "$RUNS"); do
		local s e
		s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
		ts+=("$(python3 -c "print($e - $s)")")
	done
	printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
walk_median() { # median of the walk's own time over $RUNS runs of "$@"
	for _ in $(seq "$RUNS"); do
		"$@" 2>&1 >/dev/null | sed -n 's/.* commits walked in \([0-9.]*\) s$/\1/p' | head -1
	done | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
printf '%-16s %8s %9s %9s %6s %9s %6s %4s %9s %6s %8s\n' name commits git_log_s ours_s ratio walk_s ratio dfs all_s ratio rss_mib
for name in "${NAMES[@]}"; do
	src=$CORPUS/$name/SOURCE
	df=$(awk -F': ' '/^dockerfile:/ {print $2}' "$src")
	ctx=$(awk -F': ' '/^context:/ {print $2}' "$src")
	repo=$WORK/$name
	[ -d "$repo/.git" ] || python3 "$CORPUS/materialize.py" "$name" "$repo" >/dev/null
	if [ "${GC:-}" = 1 ] && [ ! -f "$repo/.git/gc-done" ]; then
		git -C "$repo" gc -q --aggressive && touch "$repo/.git/gc-done"
	fi
	if [ -n "${FIRST:-}" ]; then
		cut=$WORK/$name-first$FIRST
		if [ ! -d "$cut/.git" ]; then
			git clone -q --no-local "$repo" "$cut"
			at=$(git -C "$cut" rev-list --first-parent --reverse HEAD | sed -n "${FIRST}p")
			git -C "$cut" reset -q --hard "$at"
			git -C "$cut" remote remove origin
			git -C "$cut" reflog expire --expire=now --all
			git -C "$cut" gc -q --prune=now
		fi
		repo=$cut
	fi
	cd "$repo"
	n=$(git rev-list --first-parent --count HEAD)
	g=$(median git log --first-parent --no-renames --name-only --format=%H -- "$ctx")
	o=$(median "$BIN" --format json --context "$ctx" "$df")
	w=$(walk_median "$BIN" --format json --context "$ctx" "$df")
	a=$(median "$BIN" --format json .)
	dfs=$("$BIN" --format json . 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	rss=$(/usr/bin/time -f %M "$BIN" --format json . 2>&1 >/dev/null | tail -1)
	printf '%-16s %8s %9.3f %9.3f %6.2f %9.3f %6.2f %4s %9.3f %6.2f %8.1f\n' "$name" "$n" "$g" "$o" "$(python3 -c "print($o/$g)")" "$w" "$(python3 -c "print($w/$g)")" "$dfs" "$a" "$(python3 -c "print($a/$g)")" "$(python3 -c "print($rss/1024)")"
	cd - >/dev/null
done
