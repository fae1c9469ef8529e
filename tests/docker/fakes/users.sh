# Fake user/group tools for dockreorder-test-base (busybox-static has no adduser/addgroup).
# Installed as /usr/local/lib/fakepm/users.sh; /usr/sbin/{adduser,addgroup,useradd,groupadd}
# set FAKE_TOOL and source it. Accepts busybox, Debian (adduser --system ...) and shadow
# (useradd/groupadd) syntax. Edits /etc/passwd and /etc/group (append, like the real tools;
# no /etc/shadow, whose day counter would make images date dependent) and creates home dirs.
# IDs: regular users/groups get the first free id >= 1000; system ones the first free id >= 100
# (busybox/Debian) or, for useradd -r / groupadd -r, the highest free id <= 999 (shadow).
. /usr/local/lib/fakepm/lib.sh

has_user() { grep -q "^$1:" /etc/passwd; }
has_group() { grep -q "^$1:" /etc/group; }
uid_used() { awk -F: -v i="$1" '$3 == i { f = 1 } END { exit !f }' /etc/passwd; }
gid_used() { awk -F: -v i="$1" '$3 == i { f = 1 } END { exit !f }' /etc/group; }
gid_of() { awk -F: -v n="$1" '$1 == n { print $3; exit }' /etc/group; }
free_id() {   # free_id passwd|group MODE (regular|system|sysdown)
	local _i
	case $2 in
	regular) _i=1000; while "${1}_used" "$_i"; do _i=$((_i + 1)); done ;;
	system) _i=100; while "${1}_used" "$_i"; do _i=$((_i + 1)); done ;;
	sysdown) _i=999; while "${1}_used" "$_i"; do _i=$((_i - 1)); done ;;
	esac
	printf '%s' "$_i"
}
passwd_used() { uid_used "$1"; }
group_used() { gid_used "$1"; }

mkgroup() {   # mkgroup NAME GID|'' MODE
	local _g
	has_group "$1" && die "group '$1' in use"
	_g=$2; [ -n "$_g" ] || _g=$(free_id group "$3")
	gid_used "$_g" && die "gid '$_g' in use"
	printf '%s:x:%s:\n' "$1" "$_g" >>/etc/group
}
add_member() {   # add_member USER GROUP
	has_group "$2" || die "group '$2' does not exist"
	awk -F: -v OFS=: -v u="$1" -v g="$2" '$1 == g { n = split($4, m, ","); f = 0; for (i = 1; i <= n; i++) if (m[i] == u) f = 1; if (!f) $4 = ($4 == "" ? u : $4 "," u) } { print }' /etc/group >/etc/group.new &&
		cat /etc/group.new >/etc/group && rm -f /etc/group.new
}
mkuser() {   # mkuser NAME UID|'' GROUP|'' HOME SHELL GECOS CREATEHOME MODE USERGROUP
	local _gid _grp _u
	has_user "$1" && die "user '$1' in use"
	_u=$2; [ -n "$_u" ] || _u=$(free_id passwd "$8")
	uid_used "$_u" && die "uid '$_u' in use"
	_grp=$3
	if [ -z "$_grp" ]; then
		if [ "$9" = yes ]; then
			_gid=$_u; gid_used "$_gid" && _gid=
			mkgroup "$1" "$_gid" "$8"; _grp=$1
		else
			_grp=nobody
		fi
	fi
	case $_grp in *[!0-9]*) _gid=$(gid_of "$_grp"); [ -n "$_gid" ] || die "group '$_grp' does not exist" ;; *) _gid=$_grp ;; esac
	printf '%s:x:%s:%s:%s:%s:%s\n' "$1" "$_u" "$_gid" "$6" "$4" "$5" >>/etc/passwd
	if [ "$7" = yes ] && [ ! -e "$4" ]; then
		mkdir -p "$4" && chmod 755 "$4" && chown "$_u:$_gid" "$4"
	fi
}

case $FAKE_TOOL in
addgroup|groupadd)
	GID=; MODE=regular; NAMES=
	while [ $# -gt 0 ]; do
		a=$1; shift
		case $a in
		-g|--gid) GID=$1; shift ;;
		-S|--system) MODE=system ;;
		-r) MODE=sysdown ;;
		-f|--force) FORCE=1 ;;
		-K|--key) shift ;;
		-*) ;;
		*) NAMES="$NAMES $a" ;;
		esac
	done
	set -- $NAMES
	[ "$FAKE_TOOL" = groupadd ] && [ "$MODE" = system ] && MODE=sysdown
	case $# in
	1) if [ -n "${FORCE:-}" ] && has_group "$1"; then exit 0; fi; mkgroup "$1" "$GID" "$MODE" ;;
	2) [ "$FAKE_TOOL" = addgroup ] || unsupported "$@"; has_user "$1" || die "unknown user $1"; add_member "$1" "$2" ;;
	*) die "usage: $FAKE_TOOL [-g GID] [-S] GROUP" ;;
	esac ;;
adduser|useradd)
	UID_=; GRP=; HOME_=; SHELL_=/bin/sh; GECOS=; CREATE=yes; MODE=regular; USERGROUP=yes; EXTRA=; NAMES=
	[ "$FAKE_TOOL" = useradd ] && CREATE=no
	while [ $# -gt 0 ]; do
		a=$1; shift
		case $a in
		-u|--uid) UID_=$1; shift ;;
		-G) if [ "$FAKE_TOOL" = adduser ]; then GRP=$1; else EXTRA=$1; fi; shift ;;
		-g) if [ "$FAKE_TOOL" = adduser ]; then GECOS=$1; else GRP=$1; fi; shift ;;
		--ingroup|--gid) GRP=$1; shift ;;
		--groups) EXTRA=$1; shift ;;
		-h|--home|-d|--home-dir) HOME_=$1; shift ;;
		-s|--shell) SHELL_=$1; shift ;;
		-c|--comment|--gecos) GECOS=$1; shift ;;
		-k|--skel|-K|--key|--firstuid|--lastuid|-e|-f|-p) shift ;;
		-m|--create-home) CREATE=yes ;;
		-M|-H|--no-create-home) CREATE=no ;;
		-S) MODE=system; [ "$FAKE_TOOL" = adduser ] && USERGROUP=${GROUPFLAG:-no} ;;   # busybox
		--system) MODE=system; DEBSYS=1; USERGROUP=${GROUPFLAG:-no} ;;   # Debian adduser
		-r) MODE=sysdown ;;
		--group) GROUPFLAG=yes; USERGROUP=yes ;;
		-U|--user-group) USERGROUP=yes ;;
		-N|--no-user-group) USERGROUP=no ;;
		-*) ;;   # -D --disabled-password --disabled-login -l -o ...
		*) NAMES="$NAMES $a" ;;
		esac
	done
	set -- $NAMES
	[ $# -ge 1 ] || die "usage: $FAKE_TOOL [OPTIONS] USER"
	if [ $# -eq 2 ] && [ "$FAKE_TOOL" = adduser ] && has_user "$1"; then add_member "$1" "$2"; exit 0; fi
	[ $# -eq 2 ] && [ "$FAKE_TOOL" = adduser ] && [ -z "$GRP" ] && GRP=$2
	# Debian: system users default to home /nonexistent, not created
	[ -n "${DEBSYS:-}" ] && [ -z "$HOME_" ] && { HOME_=/nonexistent; CREATE=no; }
	[ -n "$HOME_" ] || HOME_=/home/$1
	mkuser "$1" "$UID_" "$GRP" "$HOME_" "$SHELL_" "$GECOS" "$CREATE" "$MODE" "$USERGROUP"
	for g in $(printf '%s' "$EXTRA" | tr ',' ' '); do add_member "$1" "$g"; done ;;
*) die "unknown tool $FAKE_TOOL" ;;
esac
