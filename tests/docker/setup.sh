#!/usr/bin/env bash
# Prepare a Docker engine for the tests (run as root by .ci/run; idempotent):
#  1. apt-get install docker.io and busybox-static when missing (docker.io pulls in
#     containerd, runc, tini and iptables as dependencies; recommends are skipped);
#  2. start dockerd in the background when `docker info` fails (log: /tmp/dockerd.log),
#     first with default flags, and if that does not come up, once more with
#     --iptables=false --ip6tables=false --bridge=none (then BuildKit RUN steps need
#     `docker build --network=none`, which cache-steps.sh passes anyway);
#  3. build the base image dockreorder-test-base:latest (build-base.sh).
# There is no systemd here: dockerd is started by hand with setsid and keeps running after
# this script exits. Environment: DOCKER (client; default /usr/bin/docker, i.e. Debian's
# 20.10 client, which has BuildKit built in; see cache-steps.sh), DOCKERD_WAIT (seconds to
# wait for the daemon, default 60).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
log=/tmp/dockerd.log
wait_s=${DOCKERD_WAIT:-60}
t0=$(date +%s)

say() { printf 'docker setup: %s\n' "$*"; }

# 1. packages
missing=()
dpkg -s docker.io >/dev/null 2>&1 || missing+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { say "need root to install ${missing[*]}"; exit 1; }
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/dockreorder-apt.log 2>&1 || {
		cat /tmp/dockreorder-apt.log >&2
		exit 1
	}
fi
if [ -z "${DOCKER:-}" ]; then
	if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
export DOCKER

# 2. daemon
is_dockerd() {   # is_dockerd PID: a live dockerd process (not a zombie, not a reused pid)
	local pid=$1 state
	[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
	state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
	[ "$state" != Z ]
}
alive() {   # alive PID: the started process, or the daemon named by its pid file, still runs
	is_dockerd "$1" && return 0
	[ -f /var/run/docker.pid ] && is_dockerd "$(cat /var/run/docker.pid)"
}
wait_for_daemon() {   # wait_for_daemon PID: 0 when `docker info` answers, 1 if dockerd died or timed out
	local pid=$1 i
	for ((i = 0; i < wait_s * 2; i++)); do
		"$DOCKER" info >/dev/null 2>&1 && return 0
		alive "$pid" || return 1
		sleep 0.5
	done
	return 1
}
start_dockerd() {   # start_dockerd FLAGS...: prints the pid
	setsid dockerd "$@" >>"$log" 2>&1 </dev/null &
	echo $!
}

if "$DOCKER" info >/dev/null 2>&1; then
	say "dockerd already running"
else
	# a dead daemon's pid file would not stop dockerd, but a live dockerd that does not answer would
	if [ -f /var/run/docker.pid ] && is_dockerd "$(cat /var/run/docker.pid)"; then
		old=$(cat /var/run/docker.pid)
		say "dockerd (pid $old) is running but not answering; waiting"
		if ! wait_for_daemon "$old"; then
			say "it never answered; stopping it and starting a new one"
			kill -9 "$old" 2>/dev/null || true
			rm -f /var/run/docker.pid
		fi
	fi
	if "$DOCKER" info >/dev/null 2>&1; then
		:
	else
		: >"$log"
		say "starting dockerd (log: $log)"
		pid=$(start_dockerd)
		if ! wait_for_daemon "$pid"; then
			say "dockerd with default flags did not come up; last log lines:"
			tail -n 15 "$log" >&2
			kill "$pid" 2>/dev/null || true
			for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
			say "retrying with --iptables=false --ip6tables=false --bridge=none"
			pid=$(start_dockerd --iptables=false --ip6tables=false --bridge=none)
			if ! wait_for_daemon "$pid"; then
				say "dockerd did not come up; last log lines:"
				tail -n 30 "$log" >&2
				exit 1
			fi
		fi
	fi
fi
"$DOCKER" info --format 'docker setup: engine {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupDriver}} v{{.CgroupVersion}}' 2>/dev/null ||
	say "engine up"

# 3. base image
bash "$here/build-base.sh"
say "done in $(($(date +%s) - t0))s"
