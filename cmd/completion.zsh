#compdef dedup watermark window checkpoint dlq reconcile txlog partition
# zsh completion for the idem tools.  Like completion.bash (keep the two
# in step), it reads options, verbs and option values from each tool's
# own --help (TOOL VERB --help alone once a verb is typed), so it never
# drifts from the code.  Installed by `make install` as
# .../share/zsh/site-functions/_idem.

local tool=${words[1]:t} help prev=${words[CURRENT-1]} i
local -a verbs opts vals plain
help=$(_call_program help ${words[1]} --help </dev/null 2>/dev/null)
verbs=(${(f)"$(print -r -- $help | awk -v t=$tool '
	$1 == "Usage:" && $2 == t && $3 ~ /^[a-z][a-z-]*$/ { print $3 }
	$1 == t && $2 ~ /^[a-z][a-z-]*$/ { print $2 }
	/^Verbs:/ { v = 1; next }
	v && /^$/ { v = 0 }
	v && $1 ~ /^[a-z][a-z-]*$/ { print $1 }' | sort -u)"})
# Once a verb is typed its own help alone: the verb refuses the tool's
# other options.
local vs=" ${verbs[*]} "
if (( CURRENT > 2 && ${verbs[(Ie)${words[2]}]} )); then
	help=$(_call_program help ${words[1]} ${words[2]} --help \
		</dev/null 2>/dev/null)
	vs=
fi

# After "--" (checkpoint run, dlq retry) comes a command line.
i=${words[(i)--]}
if (( i < CURRENT )); then
	shift $i words
	(( CURRENT -= i ))
	_normal
	return
fi

# The value of an option that lists them ("--emit final|update");
# FILE or DIR stands for file names, another upper-case one (OFFSET)
# for a value of the user's own, with nothing to offer.
if [[ $prev == --* && $PREFIX != -* ]]; then
	vals=(${(s:|:)"$(print -r -- $help |
		grep -oE -- "$prev [A-Za-z0-9_.-]+(\|[A-Za-z0-9_.-]+)+" |
		head -n 1 | cut -d' ' -f2)"})
	if (( $#vals )); then
		plain=(${vals:#*[A-Z]*})
		compadd -a plain
		(( ${vals[(Ie)FILE]} || ${vals[(Ie)DIR]} )) && _files
		return
	fi
fi

# The options of the usage lines and of the option lines, not those a
# line of prose names; a tool that needs a verb takes only --help and
# --version before it.
if [[ $PREFIX == -* ]]; then
	if (( CURRENT == 2 && $#verbs )) && ! print -r -- $help |
		awk -v t=$tool '$1 == "Usage:" {
		exit !($2 == t && $3 !~ /^[a-z][a-z-]*$/ && $3 != "VERB") }'
	then
		opts=(--help --version)
	else
		# without a verb, an option line whose text starts
		# "summarize: ..." is that verb's alone (reconcile --shard)
		opts=(--help ${(f)"$(print -r -- $help | awk -v vs="$vs" '
			NR == 1 || (u && /^ /) { u = 1; print; next }
			{ u = 0 }
			/^Examples:/ { exit }
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
			}' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)"})
		opts=(${(u)opts})
	fi
	compadd -a opts
	return
fi

if (( CURRENT == 2 && $#verbs )); then
	compadd -a verbs
	# a tool whose first Usage line takes no verb also takes files
	print -r -- $help | awk -v t=$tool '$1 == "Usage:" {
		exit !($2 == t && $3 !~ /^[a-z][a-z-]*$/ && $3 != "VERB") }' ||
		return
fi
_files
