#!/usr/bin/env bats
# reconcile --columns / --ignore: compare chosen columns of layers that do
# not hold the same ones, and the field-level diff of a changed key.

load helpers

# bronze, and silver: the same rows with a derived column, one amount
# changed (2) and one spelled differently but equal (1: 10 and 10.0).
layers() {
	printf '%s\n' '{"id":1,"amount":10,"note":"a"}' '{"id":2,"amount":5,"note":"b"}' \
		'{"id":3,"amount":7,"note":"c","o":{"p":1,"q":2}}' > bronze.ndjson
	printf '%s\n' '{"id":1,"amount":10.0,"note":"a","cents":1000}' \
		'{"id":2,"amount":6,"note":"b","cents":600}' \
		'{"id":3,"amount":7,"note":"c","cents":700,"o":{"p":1,"q":3}}' > silver.ndjson
}

@test "one extra column in silver makes every key changed, and the summary names it" {
	layers
	run sh -c 'reconcile -k .id bronze.ndjson silver.ndjson | jq -c "select(.total) | [.changed, .changed_fields]"'
	assert_output '[3,{"cents":3,"amount":1,"o":1}]'
}

@test "--ignore leaves a derived column out; a changed key lists each field that differs, old and new" {
	layers
	run reconcile -k .id --ignore cents,.o.q bronze.ndjson silver.ndjson
	assert_failure 1
	assert_output - <<'J'
{"total":true,"match":false,"source":{"rows":3,"keys":3,"duplicate_keys":0,"fingerprint":"4f0e896ef27d5ebda36fea738204f35a"},"target":{"rows":3,"keys":3,"duplicate_keys":0,"fingerprint":"b6ddc3b9cb387a5204ad76b4a36cadc6"},"missing":0,"extra":0,"changed":1,"changed_fields":{"amount":1}}
{"diff":"changed","key":2,"source_rows":1,"target_rows":1,"fields":{"amount":{"source":5,"target":6}}}
J
}

@test "--ignore of a nested member keeps its siblings compared" {
	layers
	run sh -c 'reconcile -k .id --ignore cents bronze.ndjson silver.ndjson | jq -c "select(.diff) | .fields"'
	assert_output - <<'J'
{"amount":{"source":5,"target":6}}
{"o":{"source":{"p":1,"q":2},"target":{"p":1,"q":3}}}
J
}

@test "--columns compares only those columns, by value; they agree and reconcile exits 0" {
	layers
	run reconcile -k .id --columns note,.o.p --format ndjson bronze.ndjson silver.ndjson
	assert_success
	assert_output --partial '"match":true'
	run sh -c 'reconcile -k .id --columns amount bronze.ndjson silver.ndjson | jq -c "select(.diff) | [.key, .fields]"'
	assert_output '[2,{"amount":{"source":5,"target":6}}]'
}

@test "a column absent on one side is not a null: the diff says which side lacks it" {
	printf '%s\n' '{"id":1,"x":null}' > s.ndjson
	printf '%s\n' '{"id":1}' > t.ndjson
	run sh -c 'reconcile -k .id --columns x,id s.ndjson t.ndjson | jq -c "select(.diff) | .fields"'
	assert_output '{"x":{"source":null}}'
	run reconcile -k .id --format table s.ndjson t.ndjson
	assert_line '    x: null -> (absent)'
	assert_line 'changed fields (keys): x 1'
}

@test "a name with a comma is quoted as a jq path; jq programs are columns too" {
	printf '%s\n' '{"id":1,"a,b":1,"c":"x"}' > s.ndjson
	printf '%s\n' '{"id":1,"a,b":2,"c":"X"}' > t.ndjson
	run sh -c 'reconcile -k .id --columns ".c|ascii_downcase" s.ndjson t.ndjson | jq -c "select(.total) | .match"'
	assert_output 'true'
	run sh -c 'reconcile -k .id --columns c s.ndjson t.ndjson | jq -c "select(.total) | .match"'
	assert_output 'false'
	run sh -c 'reconcile -k .id --columns '\''."a,b"'\'' s.ndjson t.ndjson | jq -c "select(.diff) | .fields"'
	assert_output '{".\"a,b\"":{"source":1,"target":2}}'
}

@test "summaries carry their columns: other columns are refused by compare" {
	layers
	reconcile summarize -k .id --ignore cents bronze.ndjson > a.sum
	reconcile summarize -k .id --ignore cents silver.ndjson > b.sum
	reconcile summarize -k .id silver.ndjson > c.sum
	run sh -c 'head -1 a.sum'
	assert_output '{"reconcile_summary":2,"key":[".id"],"sum":[],"by":null,"buckets":256,"keyed":true,"ignore":["cents"]}'
	run reconcile compare a.sum c.sum
	assert_failure 2
	assert_output 'reconcile: c.sum: summarized with other options (-k, --sum, --by, --buckets, --columns, --ignore) than a.sum'
	run reconcile compare a.sum b.sum
	assert_failure 1
}

@test "merge keeps the columns of the summaries it merges: the shards' merge is the whole summary, byte for byte" {
	layers
	for opt in "--columns amount,.o.p" "--ignore cents,.o.q"; do
		for i in 0 1 2; do
			reconcile summarize -k .id $opt --shard $i/3 silver.ndjson > s$i.sum
		done
		reconcile summarize -k .id $opt silver.ndjson > whole.sum
		reconcile merge s2.sum s0.sum s1.sum > merged.sum
		cmp merged.sum whole.sum
	done
	run sh -c 'head -1 merged.sum'
	assert_output '{"reconcile_summary":2,"key":[".id"],"sum":[],"by":null,"buckets":256,"keyed":true,"ignore":["cents",".o.q"]}'
	# and a merge of other columns is still refused beside it
	reconcile summarize -k .id --ignore cents silver.ndjson > other.sum
	reconcile merge other.sum > other-merged.sum
	run reconcile compare merged.sum other-merged.sum
	assert_failure 2
	assert_output 'reconcile: other-merged.sum: summarized with other options (-k, --sum, --by, --buckets, --columns, --ignore) than merged.sum'
}

@test "a summary says which columns no record had; compare refuses one that no piece of either side had" {
	layers
	head -2 silver.ndjson > part1.ndjson
	tail -1 silver.ndjson > part2.ndjson
	reconcile summarize -k .id --columns amount,amuont,.o.q part1.ndjson > p1.sum
	reconcile summarize -k .id --columns amount,amuont,.o.q part2.ndjson > p2.sum
	run sed -n 2p p1.sum
	assert_output '{"columns_absent":["amuont",".o.q"]}'
	# .o.q is in part 2: the merge of both lacks only the misspelt one
	reconcile merge p1.sum p2.sum > silver.sum
	reconcile summarize -k .id --columns amount,amuont,.o.q silver.ndjson > whole.sum
	cmp silver.sum whole.sum
	run sed -n 2p silver.sum
	assert_output '{"columns_absent":["amuont"]}'
	reconcile summarize -k .id --columns amount,amuont,.o.q bronze.ndjson > bronze.sum
	run reconcile compare bronze.sum silver.sum
	assert_failure 2
	assert_output "reconcile: --columns amuont: no record of either input has it, so it would compare nothing"
	# one side's is enough
	reconcile summarize -k .id --columns amount,.o.q bronze.ndjson > b.sum
	reconcile summarize -k .id --columns amount,.o.q part1.ndjson > s.sum
	run sh -c 'reconcile compare b.sum s.sum | jq -c "select(.total) | .match"'
	assert_output 'false'
}

@test "--columns and --ignore refuse what they cannot mean" {
	run reconcile -k .id --columns a --ignore b s t
	assert_failure 2
	assert_output --partial 'reconcile: --columns and --ignore: choose one'
	run reconcile -k .id --ignore '.a[0]' s t
	assert_failure 2
	assert_output --partial "reconcile: --ignore: '.a[0]': only members can be ignored, not array elements"
	run reconcile -k .id --ignore 'a,,b' s t
	assert_failure 2
	assert_output --partial 'reconcile: --ignore: an empty column name'
	run reconcile -k .id --columns '."a' s t
	assert_failure 2
	assert_output --partial 'reconcile: --columns: unterminated string'
	run reconcile -k .id --columns '.a |' s t
	assert_failure 2
	assert_output --partial 'reconcile: --columns: .a |:'
	# twice, the summary's columns_absent could not say which of the two
	run reconcile summarize -k .id --columns a,b --columns a s
	assert_failure 2
	assert_line --index 0 "reconcile: --columns: 'a' given twice"
	# spelt two ways, one column all the same
	run reconcile summarize -k .id --columns 'a,."a"' s
	assert_failure 2
	assert_line --index 0 "reconcile: --columns: 'a' and '.\"a\"' name one column; give it once"
	run reconcile -k .id --ignore 'b,.b' s s
	assert_failure 2
	assert_line --index 0 "reconcile: --ignore: 'b' and '.b' name one column; give it once"
}

@test "a --columns program that fails on a record is a bad record (dead-lettered with --dlq)" {
	printf '%s\n' '{"id":1,"n":"x"}' '{"id":2,"n":1}' > s.ndjson
	printf '%s\n' '{"id":1,"n":"x"}' > t.ndjson
	run reconcile -k .id --columns '.n | ascii_downcase' s.ndjson t.ndjson
	assert_failure 2
	assert_output --partial 'reconcile: s.ndjson:2: --columns .n | ascii_downcase:'
	run sh -c 'reconcile -k .id --columns ".n | ascii_downcase" --dlq bad.ndjson s.ndjson t.ndjson >/dev/null; echo $?; jq -c "[.error_type, .source.line]" bad.ndjson'
	assert_output - <<'J'
1
["expression_error",2]
J
}

@test "a column no record of either input has is refused, not compared as absent on both sides" {
	layers
	# a misspelt --columns compared nothing: every pair of layers agreed
	run reconcile -k .id --columns amuont bronze.ndjson silver.ndjson
	assert_failure 2
	assert_output "reconcile: --columns amuont: no record of either input has it, so it would compare nothing; did you mean 'amount'?"
	run reconcile -k .id --columns 'amount,.o.r' -j 2 bronze.ndjson silver.ndjson
	assert_failure 2
	assert_output "reconcile: --columns .o.r: no record of either input has it, so it would compare nothing"
	run reconcile -k .id --ignore cent bronze.ndjson silver.ndjson
	assert_failure 2
	assert_output "reconcile: --ignore cent: no record of either input has it, so it would leave nothing out; did you mean 'cents'?"
	run reconcile -k .id --ignore cents,.o.q bronze.ndjson bronze.ndjson
	assert_failure 2
	assert_output "reconcile: --ignore cents: no record of either input has it, so it would leave nothing out"
	# a column one side has is compared; empty inputs have none to look for
	run sh -c 'reconcile -k .id --columns cents bronze.ndjson silver.ndjson | jq -c "select(.total) | [.match, .changed_fields]"'
	assert_output '[false,{"cents":3}]'
	: > empty.ndjson
	run reconcile -k .id --columns nosuch empty.ndjson empty.ndjson
	assert_success
}

@test "a misspelt nested column is refused with the path it is nearest to" {
	printf '%s\n' '{"id":1,"o":{"amount":1,"note":"a"},"x y":{"z w":1}}' > a.ndjson
	refused "reconcile: --columns .o.amuont: no record of either input has it, so it would compare nothing; did you mean '.o.amount'?" \
		reconcile -k .id --columns .o.amuont a.ndjson a.ndjson
	refused "reconcile: --ignore o.note: no record of either input has it, so it would leave nothing out; did you mean '.o.note'?" \
		reconcile -k .id --ignore o.note a.ndjson a.ndjson
	refused "reconcile: --ignore .\"x y\".zw: no record of either input has it, so it would leave nothing out; did you mean '.\"x y\".\"z w\"'?" \
		reconcile -k .id --ignore '."x y".zw' a.ndjson a.ndjson
	# a name, dotted or not, is still matched against names
	refused "reconcile: --ignore .oo: no record of either input has it, so it would leave nothing out; did you mean 'o'?" \
		reconcile -k .id --ignore .oo a.ndjson a.ndjson
}

@test "summaries of two columns named by one instant are of other options: names are text, not times" {
	printf '%s\n' '{"id":1,"2024-01-01T00:00:00Z":5,"2024-01-01T02:00:00+02:00":6}' > piv.ndjson
	reconcile summarize -k .id --columns 2024-01-01T00:00:00Z piv.ndjson > a.sum
	reconcile summarize -k .id --columns 2024-01-01T02:00:00+02:00 piv.ndjson > b.sum
	run reconcile compare a.sum b.sum
	assert_failure 2
	assert_output 'reconcile: b.sum: summarized with other options (-k, --sum, --by, --buckets, --columns, --ignore) than a.sum'
	run reconcile -k .id --columns 2024-01-01T02:00:00+02:00 piv.ndjson piv.ndjson
	assert_success
}

@test "two keys that swap their compared values differ in summaries too, even in one bucket" {
	printf '%s\n' '{"id":1,"v":5}' '{"id":2,"v":6}' > a.ndjson
	printf '%s\n' '{"id":1,"v":6}' '{"id":2,"v":5}' > b.ndjson
	run reconcile -k .id --columns v --keys-only a.ndjson b.ndjson
	assert_failure 1
	for opt in --columns=v --ignore=id; do
		for n in 1 256; do
			reconcile summarize -k .id $opt --buckets $n a.ndjson > a.sum
			reconcile summarize -k .id $opt --buckets $n b.ndjson > b.sum
			run sh -c 'reconcile compare a.sum b.sum | jq -c "select(.total) | .match"'
			assert_output false
			run reconcile compare a.sum b.sum
			assert_failure 1
		done
	done
	reconcile summarize -k .id --ignore id a.ndjson > a.sum
	run head -n 1 a.sum
	assert_output '{"reconcile_summary":2,"key":[".id"],"sum":[],"by":null,"buckets":256,"keyed":true,"ignore":["id"]}'
}

@test "a --columns summary from before its fingerprints held the key compares with its like, with a word, and not with one made now" {
	# a.ndjson of the test above, summarized before: the swap unseen
	cat > old.sum <<'S'
{"reconcile_summary":2,"key":[".id"],"sum":[],"by":null,"buckets":1,"columns":["v"]}
{"rows":2,"sum":{},"fingerprint":"e134c69972ef0c4f0b5b6b7b68c6caf5"}
{"bucket":0,"rows":2,"fingerprint":"e134c69972ef0c4f0b5b6b7b68c6caf5"}
{"xxh3_128":"93a02b4b3340a895e30c852ad1fa83aa"}
S
	cp old.sum old2.sum
	run reconcile compare old.sum old2.sum
	assert_success
	assert_line -n 0 "reconcile: old.sum: a summary from before the fingerprints of --columns and --ignore held the key: it is read as it was made, and two keys of one bucket that swapped their values go unseen in it: summarize again"
	run sh -c 'reconcile merge old.sum 2>/dev/null | head -n 1'
	assert_output '{"reconcile_summary":2,"key":[".id"],"sum":[],"by":null,"buckets":1,"columns":["v"]}'
	printf '%s\n' '{"id":1,"v":6}' '{"id":2,"v":5}' > b.ndjson
	reconcile summarize -k .id --columns v --buckets 1 b.ndjson > new.sum
	run reconcile compare old.sum new.sum
	assert_failure 2
	assert_line "reconcile: old.sum: summarized before the fingerprints of --columns and --ignore held the key, new.sum since they do: every bucket would differ with no difference in the records; summarize old.sum again with this reconcile"
	refused "reconcile: old.sum: summarized before the fingerprints of --columns and --ignore held the key, new.sum since they do: every bucket would differ with no difference in the records; summarize old.sum again with this reconcile" \
		reconcile merge new.sum old.sum
}

@test "a table names a field with a newline, a NUL or an escape as a JSON string, on its own line" {
	printf '%s\n' '{"id":1,"a\nb":1}' '{"id":2,"a\u0000b":1,"\u001b[2J":1,"":1}' > s.ndjson
	printf '%s\n' '{"id":1,"a\nb":2}' '{"id":2,"a\u0000b":2,"\u001b[2J":2,"":2}' > t.ndjson
	run sh -c 'reconcile -k .id --format table s.ndjson t.ndjson | sed -n "/^changed fields/,\$p"'
	assert_output - <<'T'
changed fields (keys): "" 1, "\u001b[2J" 1, "a\u0000b" 1, "a\nb" 1

changed: 2 keys
  1
    "a\nb": 1 -> 2
  2
    "": 1 -> 2
    "\u001b[2J": 1 -> 2
    "a\u0000b": 1 -> 2
T
}

@test "a table writes a raw DEL or C1 control (CSI, U+009B) as its \\u escape, in names, partitions, keys, values and records" {
	printf '{"id":"k\302\2331","a\302\2332J":"x\302\233y","\177":1,"d":"p\302\233q"}\n' > s.ndjson
	printf '{"id":"k\302\2331","a\302\2332J":2,"\177":2,"d":"p\302\233q"}\n' > t.ndjson
	run sh -c 'reconcile -k .id --by .d --show 1 --format table s.ndjson t.ndjson | sed -n "/^changed fields/,\$p"'
	assert_output - <<'T'
changed fields (keys): "a\u009b2J" 1, "\u007f" 1

changed: 1 key
  "k\u009b1"  ("p\u009bq")
    "a\u009b2J": "x\u009by" -> 2
    "\u007f": 1 -> 2
    source: {"id":"k\u009b1","a\u009b2J":"x\u009by","\u007f":1,"d":"p\u009bq"}
    target: {"id":"k\u009b1","a\u009b2J":2,"\u007f":2,"d":"p\u009bq"}
T
	run sh -c 'reconcile -k .id --by .d --format table s.ndjson t.ndjson | cut -c1-10 | sed -n 2p'
	assert_output '"p\u009bq"'
}

@test "a jq program given as a column without a leading '.' is a member's name: refused with the program it may mean" {
	printf '%s\n' '{"id":1,"a":1,"o":{"b":1}}' > s.ndjson
	printf '%s\n' '{"id":1,"a":1,"o":{"b":2}}' > t.ndjson
	refused "reconcile: --columns [.a,.o]: no record of either input has it, so it would compare nothing; did you mean '.|[.a,.o]'? (a column that does not start with '.' is a member's name)" \
		reconcile -k .id --columns '[.a,.o]' s.ndjson t.ndjson
	run sh -c "reconcile -k .id --columns '.|[.a,.o]' s.ndjson t.ndjson | jq -c 'select(.total) | .changed_fields'"
	assert_output '{".|[.a,.o]":1}'
}

@test "--help says --columns takes jq programs, as the code does" {
	run sh -c "reconcile --help | grep -A1 -e '--columns C'"
	assert_output "      --columns C,...   compare only these columns (names, or jq paths
                        and programs starting with '.')"
}
