#!/bin/bash
# Hosts for the scale-out tests: network namespaces on one bridge, each
# with its own address and a real sshd (Debian's openssh-server) that
# takes a key made for the test.  The hosts share this machine's
# filesystem, so idem is "installed" on them at IDEM_BIN (put on the
# sessions' PATH by the sshd configuration).
#
#   hosts.sh up DIR N [PID]  start N hosts (host1..hostN); DIR gets the
#                         keys, configurations, logs and DIR/ssh.conf, the
#                         client configuration (Host host1 ...); with PID,
#                         a watchdog takes them down when PID ends, even
#                         killed before its own clean-up could run
#   hosts.sh down DIR     stop and remove all that up made (idempotent:
#                         it undoes what DIR/made lists)
#
# Root's ~/.bashrc is hidden from the sessions (a bind mount in the
# sshd's own mount namespace) so that a slow interactive set-up there
# does not run for every command GNU parallel sends.
set -u

up() {
	local dir=$1 n=$2 id h ns
	: > "$dir/made"
	# a bridge name nobody uses: ibrID, subnet 10.201.ID.0/24
	for id in $(seq $(($$ % 200 + 20)) 250) $(seq 20 250); do
		ip link show "ibr$id" > /dev/null 2>&1 || break
	done
	ip link add "ibr$id" type bridge || return 1
	echo "link ibr$id" >> "$dir/made"
	ip addr add "10.201.$id.1/24" dev "ibr$id" &&
		ip link set "ibr$id" up || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey" &&
		ssh-keygen -q -t ed25519 -N '' -f "$dir/userkey" &&
		cp "$dir/userkey.pub" "$dir/authorized_keys" || return 1
	mkdir -p /run/sshd && : > "$dir/empty" || return 1
	# the sessions' environment: idem on PATH, and the sanitizers'
	# options of make test's second pass
	local env="PATH=$IDEM_BIN:/usr/local/bin:/usr/bin:/bin" v
	for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		[ -n "${!v-}" ] && env="$env \"$v=${!v}\""
	done
	: > "$dir/ssh.conf"
	for h in $(seq 1 "$n"); do
		ns=idem$id-h$h
		ip netns add "$ns" || return 1
		echo "netns $ns" >> "$dir/made"
		ip link add "iv$id-$h" type veth peer name eth0 netns "$ns" &&
			ip link set "iv$id-$h" master "ibr$id" up &&
			ip -n "$ns" addr add "10.201.$id.$((h + 1))/24" dev eth0 &&
			ip -n "$ns" link set eth0 up &&
			ip -n "$ns" link set lo up || return 1
		cat > "$dir/sshd$h.conf" <<C
ListenAddress 10.201.$id.$((h + 1))
HostKey $dir/hostkey
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd$h.pid
StrictModes no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 100
MaxSessions 100
SetEnv $env
C
		local hide=
		[ -f /root/.bashrc ] &&
			hide="mount --bind $dir/empty /root/.bashrc &&"
		ip netns exec "$ns" unshare -m --propagation private sh -c \
			"$hide exec /usr/sbin/sshd -f $dir/sshd$h.conf -E $dir/sshd$h.log" ||
			return 1
		echo "sshd $dir/sshd$h.pid" >> "$dir/made"
		cat >> "$dir/ssh.conf" <<C
Host host$h
  HostName 10.201.$id.$((h + 1))
C
	done
	cat >> "$dir/ssh.conf" <<C
Host *
  User root
  IdentityFile $dir/userkey
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
  ConnectTimeout 10
  ControlMaster auto
  ControlPath $dir/cm-%h
  ControlPersist 60
C
	echo "ssh $dir" >> "$dir/made"
}

down() {
	local dir=$1 what arg h
	[ -f "$dir/made" ] || return 0
	# undo in reverse order
	tac "$dir/made" | while read -r what arg; do
		case $what in
		ssh)
			for h in "$arg"/cm-*; do
				[ -S "$h" ] && ssh -F "$arg/ssh.conf" -O exit \
					"${h##*/cm-}" > /dev/null 2>&1
			done ;;
		sshd) [ -f "$arg" ] && kill "$(cat "$arg")" 2> /dev/null ;;
		netns) ip netns del "$arg" 2> /dev/null ;;
		link) ip link del "$arg" 2> /dev/null ;;
		esac
	done
	rm -f "$dir/made"
}

watch() { # DIR PID
	while kill -0 "$2" 2> /dev/null; do sleep 1; done
	down "$1"
}

case ${1-} in
up)
	up "$2" "$3" || { down "$2"; exit 1; }
	if [ -n "${4-}" ]; then
		setsid "$0" watch "$2" "$4" < /dev/null > /dev/null 2>&1 3>&- &
	fi ;;
watch) watch "$2" "$3" ;;
down) down "$2" ;;
*) echo "usage: hosts.sh up DIR N [PID] | down DIR" >&2; exit 2 ;;
esac
