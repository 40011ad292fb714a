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
		ex && /^  / { print substr($0, 3); next }
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
awk '
	/^\.Sh / { ex = ($0 == ".Sh EXAMPLES"); next }
	/^\.Bd -literal/ { inb = ex; next }
	/^\.Ed/ { if (inb) print "@@END@@"; inb = 0; next }
	inb {
		gsub(/\\\(dq/, "\"");
		gsub(/\\&/, "");
		gsub(/\\e/, "\\");
		print
	}
'  "$page" > "$dir/blocks"
fi
n=0 status=0
cd "$dir" || exit 2
: > block
while IFS= read -r line; do
	if [ "$line" = "@@END@@" ]; then
		n=$((n + 1))
		if sh -e block > out 2>&1 </dev/null; then
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
