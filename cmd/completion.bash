# bash completion for the idem tools.  Options, verbs and option values
# are read from each tool's own --help, so completion never drifts from
# the code.  Installed by `make install` as
# .../share/bash-completion/completions/TOOL; zsh loads it through
# bashcompinit (completion.zsh).
#
# What --help gives:
#   verbs    "Usage: TOOL verb ..." and "       TOOL verb ..." lines, and
#            the lines of a "Verbs:" list
#   options  the --long-options of the usage lines and of the option
#            lines ("  -k, --key EXPR ..."): the tool's, or once a verb
#            is typed its own alone (TOOL VERB --help), since a verb
#            refuses the others; a tool that needs a verb takes only
#            --help and --version before it.  An option a line of prose
#            names ("the outputs of --shard runs") is none of them.
#   values   "--opt a|b|c" lists its values; FILE or DIR stands for
#            file names, another upper-case one (OFFSET) for a value of
#            the user's own, with nothing to offer

_idem_help() { # TOOL [VERB]: the verb's help, or the tool's, never
		# reading the terminal
	if [ -n "${2-}" ]; then
		"$1" "$2" --help </dev/null 2>/dev/null
	else
		"$1" --help </dev/null 2>/dev/null
	fi
	return 0
}

_idem_verbs() { # TOOL
	_idem_help "$1" | awk -v t="$1" '
		$1 == "Usage:" && $2 == t && $3 ~ /^[a-z][a-z-]*$/ { print $3 }
		$1 == t && $2 ~ /^[a-z][a-z-]*$/ { print $2 }
		/^Verbs:/ { v = 1; next }
		v && /^$/ { v = 0 }
		v && $1 ~ /^[a-z][a-z-]*$/ { print $1 }' | sort -u
}

# Does TOOL run without a verb?  (Its first Usage line takes no verb.)
_idem_verb_optional() { # TOOL
	_idem_help "$1" | awk -v t="$1" '
		$1 == "Usage:" { exit !($2 == t && $3 !~ /^[a-z][a-z-]*$/ && $3 != "VERB") }'
}

_idem_options() { # TOOL [VERB]
	if [ -z "${2-}" ] && [ -n "$(_idem_verbs "$1")" ] &&
	   ! _idem_verb_optional "$1"; then
		printf '%s\n' --help --version
		return
	fi
	# without a verb, the verbs: an option line whose text starts
	# "summarize: ..." is that verb's alone (reconcile --shard)
	local vs=
	[ -z "${2-}" ] && vs=$(_idem_verbs "$1" | tr '\n' ' ')
	{
		echo --help
		_idem_help "$@" | awk -v vs=" $vs" '
			NR == 1 || (u && /^ /) { u = 1; print; next }
			{ u = 0 }
			/^Examples:/ { exit }
			# an option line, indented 2 to 8 (its wrapped text is
			# indented more)
			match($0, /^  +/) && RLENGTH <= 8 {
				l = substr($0, RLENGTH + 1)
				sub(/^-[a-zA-Z], /, "", l)
				if (l !~ /^--[a-z]/)
					next
				split(l, w, " ")
				if (match(l, /   */)) {
					d = substr(l, RSTART + RLENGTH)
					if (d ~ /^[a-z]+:/ &&
					    index(vs, " " substr(d, 1, index(d, ":") - 1) " "))
						next
				}
				print w[1]
			}' |
			grep -oE -- '--[a-z][a-z0-9-]*'
	} | sort -u
}

_idem_values() { # OPTION: the a|b|c after "OPTION " in the help on stdin
	grep -oE -- "$1 [A-Za-z0-9_.-]+(\|[A-Za-z0-9_.-]+)+" |
		head -n 1 | cut -d' ' -f2 | tr '|' '\n'
}

_idem_complete() {
	local tool=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]}
	local prev= words i verb=
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	# the verb typed, if any
	if [ "$COMP_CWORD" -gt 1 ] &&
	   _idem_verbs "$tool" | grep -qxF -- "${COMP_WORDS[1]}"; then
		verb=${COMP_WORDS[1]}
	fi

	# After "--" (checkpoint run, dlq retry) comes a command line.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [ "${COMP_WORDS[i]}" = -- ]; then
			if [ $i -eq $((COMP_CWORD - 1)) ]; then
				COMPREPLY=($(compgen -c -- "$cur" | sort -u))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return
		fi
	done

	# The value of an option that lists its values.
	if [[ $prev == --* && $cur != -* ]]; then
		words=$(_idem_help "$tool" $verb | _idem_values "$prev")
		if [ -n "$words" ]; then
			local files=
			grep -qxE 'FILE|DIR' <<<"$words" && files=y
			words=$(grep -v '[A-Z]' <<<"$words")
			COMPREPLY=($(compgen -W "$words" -- "$cur"))
			[ -n "$files" ] && COMPREPLY+=($(compgen -f -- "$cur"))
			return
		fi
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_idem_options "$tool" $verb)" -- "$cur"))
		return
	fi
	if [ "$COMP_CWORD" -eq 1 ]; then
		words=$(_idem_verbs "$tool")
		if [ -n "$words" ]; then
			COMPREPLY=($(compgen -W "$words" -- "$cur"))
			_idem_verb_optional "$tool" || return
		fi
	fi
	COMPREPLY+=($(compgen -f -- "$cur"))
}

complete -o filenames -F _idem_complete \
	dedup watermark window checkpoint dlq reconcile txlog partition
