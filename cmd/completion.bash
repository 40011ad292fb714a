# bash completion for the idem tools.  Options and verbs are read from
# each tool's own --help, so completion never drifts from the code.
# Installed by `make install` as .../share/bash-completion/completions/*.

_idem_words() { # TOOL VERB: long options, or verbs when VERB is "-"
	local tool=$1 verb=$2
	if [ "$verb" = - ]; then
		# "Usage: TOOL verb ..." lines, or the lines of a "Verbs:" list
		"$tool" --help 2>/dev/null | awk -v t="$tool" '
			$1 == "Usage:" && $2 == t && $3 ~ /^[a-z][a-z-]*$/ { print $3 }
			$1 == t && $2 ~ /^[a-z][a-z-]*$/ { print $2 }
			/^Verbs:/ { v = 1; next }
			v && /^$/ { v = 0 }
			v && $1 ~ /^[a-z][a-z-]*$/ { print $1 }' | sort -u
	else
		"$tool" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u
	fi
}

_idem_complete() {
	local tool=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]}
	local verbs
	if [ "$COMP_CWORD" -eq 1 ] && [[ $cur != -* ]]; then
		verbs=$(_idem_words "$tool" -)
		if [ -n "$verbs" ]; then
			COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
			return
		fi
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_idem_words "$tool" +)" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}

complete -o filenames -F _idem_complete \
	dedup watermark window checkpoint dlq reconcile txlog
