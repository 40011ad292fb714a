#!/bin/sh
# Run every literal display of a man page's EXAMPLES section, in order,
# in one scratch
# folder; print "ok N" or the failing block.  The manual must not lie.
# Usage: man-examples.sh PAGE   (with the tools under test on PATH)
#        man-examples.sh --help TOOL [VERB]
# The second form runs the examples TOOL [VERB] --help ends with (the
# indented lines after "Examples:"), as one block in an empty folder.
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if [ "$1" = --help ]; then
	shift
	page="'$* --help'"
	"$@" --help > "$dir/help" || { echo "$page failed"; exit 1; }
	awk '
		/^Examples:$/ { ex = 1; next }
		ex && /^  / {
			l = substr($0, 3)
			# as in a page (below): no "|| true"
			if (l ~ /\|\| *(true|:) *$/)
				l = "{ echo \"example " NR ": || true passes an exit 2 too\" >&2; exit 1; }"
			print l
			next
		}
		ex { exit 1 }  # the examples are the end of the help
		END { print "@@END@@" }
	' "$dir/help" > "$dir/blocks" ||
		{ echo "$page: the examples are not the last lines"; exit 1; }
	[ "$(wc -l < "$dir/blocks")" -gt 1 ] ||
		{ echo "no examples in $page"; exit 1; }
else
page=$1
# Literal displays, unescaped from mdoc: \e is a backslash, \(dq a
# quote, \& nothing.  Blocks are separated by a line "@@END@@".
# A command line (not continued) whose comment says what it prints is
# held to it: "CMD  # nothing ..." must write nothing on standard output,
# "CMD  # {...}" (or "[...]", an optional " again" after it) exactly that
# line; any other comment is prose.  A command line that ends in
# "|| true" fails: it would pass an exit 2 (trouble) as the finding it
# expects; "|| [ $? = 1 ]" says which status that is.
awk '
	function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
	/^\.Sh / { ex = ($0 == ".Sh EXAMPLES"); next }
	/^\.Bd -literal/ { inb = ex; cont = 0; next }
	/^\.Ed/ { if (inb) print "@@END@@"; inb = 0; next }
	inb {
		gsub(/\\\(dq/, "\"");
		gsub(/\\&/, "");
		gsub(/\\e/, "\\");
		was = cont
		cont = /\\$/
		if (!cont && /\|\| *(true|:) *$/) {
			print "{ echo " q("line " NR ": || true passes an exit 2 (trouble) too; write the status expected: || [ $? = 1 ]") " >&2; exit 1; }"
			next
		}
		if (!was && !cont && match($0, / +# /)) {
			cmd = substr($0, 1, RSTART - 1)
			say = substr($0, RSTART + RLENGTH)
			fail = "{ echo " q("line " NR ": not what its comment says: " say) " >&2; exit 1; }"
			if (say ~ /^nothing/) {
				print "{ " cmd "; } > .said; cat .said; test ! -s .said || " fail
				next
			}
			if (say ~ /^[[{]/) {
				sub(/ again$/, "", say)
				print "{ " cmd "; } > .said; cat .said; printf \047%s\\n\047 " q(say) " | cmp -s - .said || " fail
				next
			}
		}
		print
	}
'  "$page" > "$dir/blocks"
fi
# Under bash when there is one, with pipefail: a failing first stage of
# "txlog changes ... | jq" would otherwise pass as jq's success.
run="sh -e"
command -v bash > /dev/null && run="bash -e -o pipefail"
n=0 status=0
cd "$dir" || exit 2
: > block
while IFS= read -r line; do
	if [ "$line" = "@@END@@" ]; then
		n=$((n + 1))
		if $run block > out 2>&1 </dev/null; then
			echo "ok $n"
		else
			echo "FAILED example $n of $page:"
			sed 's/^/    /' block
			echo "  output:"
			sed 's/^/    /' out
			status=1
		fi
		: > block
	else
		printf '%s\n' "$line" >> block
	fi
done < blocks
[ "$n" -gt 0 ] || { echo "no examples in $page"; status=1; }
exit $status
