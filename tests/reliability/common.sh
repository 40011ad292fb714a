# Sourced by crash.sh and concurrency.sh (bash): what both measure with.

# Milliseconds, from a builtin: timing a step costs no fork.
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# Multisets of lines: "LOST DUP" of the lines of $2 against the expected
# lines of $1.
compare() {
	awk -v want="$1" 'BEGIN { while ((getline l < want) > 0) e[l]++ } { g[$0]++ }
	END {
		for (k in e) if (g[k] < e[k]) lost += e[k] - g[k]
		for (k in g) if (g[k] > e[k]) dup += g[k] - e[k]
		print lost + 0, dup + 0
	}' "$2"
}

# running PID: the process is alive and not a zombie.  A zombie is dead,
# waiting only for its reaper, and a container's pid 1 may reap late (or
# never): kill -0 still finds it.
running() {
	local st
	kill -0 "$1" 2> /dev/null || return 1
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2> /dev/null) || return 1
	[ "$st" != Z ] && [ "$st" != X ]
}
