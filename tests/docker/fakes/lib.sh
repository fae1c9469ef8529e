# Shared helpers for the fake package-manager tools of dockreorder-test-base.
# Installed as /usr/local/lib/fakepm/lib.sh and sourced by /usr/local/bin/<tool>.
#
# Rules every fake follows:
#  * it reads the same manifests the real tool reads and fails (exit 1, clear
#    message on stderr) when a required one is missing;
#  * it writes to the places the real tool writes, with content derived only
#    from the manifest text / source files (no timestamps, no randomness, no
#    shared append-only logs), so two builds of equivalent Dockerfiles give
#    byte-identical files;
#  * unsupported invocations fail with exit 2 instead of silently passing.
# POSIX sh + busybox applets only.

FAKE_TOOL=${FAKE_TOOL:-${0##*/}}
export LC_ALL=C

die() { printf '%s: error: %s\n' "$FAKE_TOOL" "$*" >&2; exit 1; }
unsupported() { printf '%s (dockreorder fake): unsupported invocation: %s %s\n' "$FAKE_TOOL" "$FAKE_TOOL" "$*" >&2; exit 2; }
say() { printf '%s\n' "$@"; }

# fake_by [FILE...]: a short hash naming the tool that runs: the script found through PATH
# ($0, so a tool replaced by a later COPY or wrapped by an earlier PATH entry gives
# different output, as a different real binary would) plus version files the tool reads
# about itself (e.g. an upgraded pip's site-packages/pip/REQUESTED). Missing files count
# as empty.
fake_by() { cat "$0" "$@" 2>/dev/null | sha | cut -c1-16; }

# need FILE [MESSAGE]: fail unless FILE exists
need() {
	[ -e "$1" ] || die "${2:-$1 not found in $(pwd)}"
}

# put FILE LINE...: write LINEs (one per line) to FILE, creating parents
put() {
	local _f
	_f=$1; shift
	mkdir -p "$(dirname "$_f")" || exit 1
	printf '%s\n' "$@" >"$_f" || exit 1
}

# sha: sha256 (hex) of stdin
sha() { sha256sum | cut -c1-64; }

# fsha FILE...: sha256 of the concatenated files (missing files count as empty)
fsha() { cat "$@" 2>/dev/null | sha; }

# sys_prune DIR: find(1) arguments that skip what the engine mounts into every container
# (/proc, /sys, /dev: endless or host-dependent; /etc/hostname, /etc/hosts, /etc/resolv.conf:
# per container) when DIR is the root, e.g. `npm run build` in WORKDIR /.
sys_prune() {
	[ "$(cd "$1" && pwd)" = / ] || return 0
	printf '%s' '-path ./proc -prune -o -path ./sys -prune -o -path ./dev -prune -o -path ./etc/hostname -prune -o -path ./etc/hosts -prune -o -path ./etc/resolv.conf -prune -o -path ./.dockerenv -prune -o'
}

# tree_hash DIR [PRUNE_NAME...]: hash of every regular file (path + content)
# under DIR, in sorted order; directories named PRUNE_NAME are skipped.
tree_hash() {
	local _d _p _prune _x
	_d=$1; shift
	_prune=$(sys_prune "$_d")
	for _p in "$@"; do _prune="$_prune -name $_p -prune -o"; done
	# shellcheck disable=SC2086
	(set -f; cd "$_d" && find . $_prune -type f -print | sort | while IFS= read -r _x; do
		printf '%s  %s\n' "$(sha256sum <"$_x" | cut -c1-64)" "$_x"
	done) | sha
}

# files_hash DIR GLOB [PRUNE_NAME...]: like tree_hash, limited to names matching GLOB
files_hash() {
	local _d _g _p _prune _x
	_d=$1; _g=$2; shift 2
	_prune=$(sys_prune "$_d")
	for _p in "$@"; do _prune="$_prune -name $_p -prune -o"; done
	# shellcheck disable=SC2086
	(set -f; cd "$_d" && find . $_prune -type f -name "$_g" -print | sort | while IFS= read -r _x; do
		printf '%s  %s\n' "$(sha256sum <"$_x" | cut -c1-64)" "$_x"
	done) | sha
}

# json_obj FILE KEY: print `name<TAB>value` for each "name": "value" pair of the
# top-level object KEY (e.g. "dependencies") of a JSON file. Good enough for
# package.json / composer.json style files (flat string maps).
json_obj() {
	tr '\n\r\t' '   ' <"$1" | awk -v key="$2" '{
		s = $0
		if (!match(s, "\"" key "\"[ ]*:[ ]*[{]")) exit
		s = substr(s, RSTART + RLENGTH)
		e = index(s, "}")
		if (e == 0) exit
		s = substr(s, 1, e - 1)
		n = split(s, parts, ",")
		for (i = 1; i <= n; i++) {
			p = parts[i]
			if (!match(p, "\"[^\"]*\"[ ]*:[ ]*\"[^\"]*\"")) continue
			p = substr(p, RSTART, RLENGTH)
			k = p; sub("\"[ ]*:.*", "", k); sub("^\"", "", k)
			v = p; sub("^\"[^\"]*\"[ ]*:[ ]*\"", "", v); sub("\"$", "", v)
			if (k != "") printf "%s\t%s\n", k, v
		}
	}'
}

# json_str FILE KEY: first top-level-looking "KEY": "value" string in FILE
json_str() {
	tr '\n\r\t' '   ' <"$1" | sed -n 's/^[^"]*"'"$2"'"[ ]*:[ ]*"\([^"]*\)".*$/\1/p;' | head -n 1
}

# toml_section FILE SECTION: print `name<TAB>rest` for `name = rest` lines of [SECTION]
toml_section() {
	awk -v sec="[$2]" '
		/^[ \t]*\[/ { cur = $0; gsub("[ \t]", "", cur); next }
		cur == sec && /^[ \t]*[A-Za-z0-9_.@"-]+[ \t]*=/ {
			k = $0; sub("[ \t]*=.*", "", k); gsub("[ \t\"]", "", k)
			v = $0; sub("^[^=]*=[ \t]*", "", v)
			printf "%s\t%s\n", k, v
		}' "$1"
}

# toml_str FILE SECTION KEY: value of KEY = "value" in [SECTION]
toml_str() {
	toml_section "$1" "$2" | awk -F '\t' -v k="$3" '$1 == k { v = $2; gsub("\"", "", v); print v; exit }'
}

# norm_py NAME: normalised python distribution name
norm_py() { printf '%s' "$1" | tr 'A-Z.-' 'a-z__'; }

# ---- node helpers (npm, yarn, pnpm) ----

# node_deps PROD: print `name<TAB>spec` of package.json dependencies (and
# devDependencies unless PROD is non-empty), sorted.
node_deps() {
	need package.json "ENOENT: no such file or directory, open '$(pwd)/package.json'"
	{
		json_obj package.json dependencies
		[ -n "$1" ] || json_obj package.json devDependencies
	} | sort -u
}

# node_install DIR PROD LOCKSHA: replace DIR/node_modules by one holding
# <dep>/package.json for every dependency (extraneous packages are pruned, as npm,
# yarn and pnpm do)
node_install() {
	local _deps _n _nd _v
	_nd=$1
	node_deps "$2" >/dev/null || exit 1
	_deps=$(node_deps "$2")
	rm -rf "$_nd/node_modules"
	mkdir -p "$_nd/node_modules"
	while IFS='	' read -r _n _v; do
		[ -n "$_n" ] || continue
		put "$_nd/node_modules/$_n/package.json" "{\"name\":\"$_n\",\"version\":\"$_v\",\"_resolved\":\"fake:$3\",\"_by\":\"$(fake_by /usr/local/lib/node_modules/npm/package.json)\"}"
	done <<EOT
$_deps
EOT
	say "added $(printf '%s\n' "$_deps" | grep -c .) packages (dockreorder fake $FAKE_TOOL)"
	(cd "$_nd" && lifecycle) || exit 1
}

# lifecycle: after an install of the project (npm ci / npm install / yarn / pnpm install),
# the project's own preinstall, install, postinstall and prepare scripts run (the real tools
# do so unless --ignore-scripts; they may read any file): each one present in package.json
# writes ./.fake-run/<name> (script text + a hash of the whole source tree), like run_script.
lifecycle() {
	local _s _cmd
	[ -z "${FAKE_IGNORE_SCRIPTS:-}" ] || return 0
	for _s in preinstall install postinstall prepare; do
		_cmd=$(json_obj package.json scripts | awk -F '\t' -v s="$_s" '$1 == s { print $2; exit }')
		[ -n "$_cmd" ] || continue
		say "> $_s" "> $_cmd" "(dockreorder fake $FAKE_TOOL: not executed)"
		put ".fake-run/$_s" "script $_cmd" "tree $(tree_hash . node_modules .git .fake-run)"
	done
}

# node_lockfile FILE: create FILE from package.json if missing (like a resolver would)
node_lockfile() {
	[ -f "$1" ] && return 0
	put "$1" "# lockfile written by dockreorder fake $FAKE_TOOL" "package.json $(fsha package.json)"
}

# node_is_prod: production mode from NODE_ENV
node_env_prod() { [ "${NODE_ENV:-}" = production ] && printf 1; }

# run_script NAME: `npm run NAME` & co. The script must exist in package.json;
# nothing is executed, but a stamp derived from the script text and the whole
# source tree is written to ./.fake-run/NAME (like a build writing dist/).
run_script() {
	local _cmd
	need package.json "ENOENT: no such file or directory, open '$(pwd)/package.json'"
	_cmd=$(json_obj package.json scripts | awk -F '\t' -v s="$1" '$1 == s { print $2; exit }')
	[ -n "$_cmd" ] || die "Missing script: \"$1\""
	say "> $1" "> $_cmd" "(dockreorder fake $FAKE_TOOL: not executed)"
	put ".fake-run/$1" "script $_cmd" "tree $(tree_hash . node_modules .git .fake-run)"
}
