#!/usr/bin/env bats
# txlog changes: the row-level change data feed, against a brute-force
# model -- each version's rows are the previous version's minus its
# deletes and preimages plus its inserts and postimages -- over random
# sequences of append, delete, update, merge, overwrite, optimize and
# restore.

load helpers
bats_require_minimum_version 1.5.0

mk() {
	txlog init t --infer --partition-by p
	printf '{"id":1,"p":"x","v":1}\n{"id":2,"p":"y","v":2}\n{"id":3,"p":"x","v":3}\n' | txlog append t
}

strip() { jq -c 'del(._change_type, ._commit_version, ._commit_timestamp)'; }

# newest version
newest() { ls t/_delta_log | grep '^[0-9]*\.json$' | tail -n 1 | sed 's/^0*//; s/\.json$//; s/^$/0/'; }

@test "changes gives Delta's columns for append, update, delete, merge, and nothing for optimize" {
	mk
	txlog update t --set 'v = 10' --where 'id = 1'
	txlog delete t --where 'id = 2'
	printf '{"id":3,"p":"x","v":30}\n{"id":4,"p":"x"}\n' | txlog merge t -k .id
	txlog optimize t
	run sh -c "txlog changes t --from 1 | jq -c '[._commit_version, ._change_type, .id, .v]'"
	assert_output - <<'J'
[1,"insert",1,1]
[1,"insert",3,3]
[1,"insert",2,2]
[2,"update_preimage",1,1]
[2,"update_postimage",1,10]
[3,"delete",2,2]
[4,"update_preimage",3,3]
[4,"update_postimage",3,30]
[4,"insert",4,null]
J
	# the timestamp is the commit time log and --as-of use, in UTC
	run sh -c "txlog changes t --from 3 --to 3 | jq -r ._commit_timestamp"
	assert_output --regexp '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z$'
	run txlog changes t --from 5
	assert_success
	assert_output ''
}

@test "an update that leaves a row as it was still gives its preimage and postimage" {
	mk
	txlog update t --set 'p = x' --where 'id = 3'
	run sh -c "txlog changes t --from 2 | jq -c '[._change_type, .id, .v]'"
	assert_output - <<'J'
["update_preimage",3,3]
["update_postimage",3,3]
J
}

@test "changes refuses what it cannot read exactly" {
	mk
	txlog delete t --where 'id = 1'
	run txlog changes t
	assert_failure 2
	assert_line -n 0 'txlog: changes needs --from V1'
	run txlog changes t --from 3
	assert_failure 2
	assert_output 'txlog: t: version 3 does not exist (the newest is 2)'
	run txlog changes t --from 2 --to 1
	assert_failure 2
	assert_line -n 0 'txlog: --from 2 is after --to 1'
	run txlog changes t --from 1 --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: changes: --where does not apply to changes (it is overwrite's, delete's, cat's, optimize's and update's)"
	f=$(jq -r 'select(.remove) | .remove.path' t/_delta_log/00000000000000000002.json)
	rm "t/$f"
	run txlog changes t --from 2
	assert_failure 2
	assert_output "txlog: t: the changes of version 2 need $f, which is gone (vacuumed?): changes are readable only within vacuum's retention; nothing read"
	txlog checkpoint t
	rm t/_delta_log/00000000000000000000.json t/_delta_log/00000000000000000001.json
	run txlog changes t --from 1
	assert_failure 2
	assert_output "txlog: t: the commit of version 1 is gone (log cleanup): its changes cannot be read; start --from a later version"
}

@test "a file gone at a later version of the range refuses before the rows of the earlier ones" {
	mk
	echo '{"id":4,"p":"y","v":4}' | txlog append t
	txlog delete t --where 'id = 1'
	f=$(jq -r 'select(.remove) | .remove.path' t/_delta_log/00000000000000000003.json)
	rm "t/$f"
	run --separate-stderr txlog changes t --from 2
	assert_failure 2
	assert_output ''
	[ "$stderr" = "txlog: t: the changes of version 3 need $f, which is gone (vacuumed?): changes are readable only within vacuum's retention; nothing read" ]
}

@test "a merge that updates a row to the bytes it had shows the update, as the commit counts it" {
	mk
	# id 1 as it is, id 3 changed, id 9 new
	printf '{"id":1,"p":"x","v":1}\n{"id":3,"p":"x","v":33}\n{"id":9,"p":"y","v":9}\n' |
		txlog merge t -k .id
	run sh -c "txlog changes t --from 2 | jq -c '[._change_type, .id, .v]' | sort"
	assert_output - <<'J'
["insert",9,9]
["update_postimage",1,1]
["update_postimage",3,33]
["update_preimage",1,1]
["update_preimage",3,3]
J
	grep -q '"numTargetRowsUpdated":"2"' t/_delta_log/00000000000000000002.json
	# a merge that deletes and updates: preimages by key, the rest deletes
	printf '{"id":1,"p":"x","v":-1}\n{"id":2,"p":"y","v":2}\n' |
		txlog merge t -k .id --delete-when '.v < 0'
	run sh -c "txlog changes t --from 3 | jq -c '[._change_type, .id, .v]' | sort"
	assert_output - <<'J'
["delete",1,1]
["update_postimage",2,2]
["update_preimage",2,2]
J
}

@test "a merge's preimage is paired with its postimage by a double key as the binary number it is" {
	# a merge that matched the row of key 0.1 by the source's
	# 0.1000000000000000055511151231257827 (one double) removed it as a
	# delete, not as the update's preimage
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"k","type":"double","nullable":true,"metadata":{}},{"name":"v","type":"long","nullable":true,"metadata":{}}]}' > s.json
	txlog init t --schema s.json
	echo '{"id":1,"k":0.1,"v":1}' | txlog append t
	txlog update t --set 'k = 0.1000000000000000055511151231257827' --set 'v = 2' --where 'id = 1'
	# that commit as such a merge writes it: its updated rows tagged
	c=t/_delta_log/00000000000000000002.json
	sed -i 's/"operation":"UPDATE","operationParameters":{"predicate":"id = 1"}/"operation":"MERGE","operationParameters":{"mergeKey":".k"}/' "$c"
	unseal "$c"
	run sh -c "txlog changes t --from 2 | jq -c '[.id, .v, ._change_type]'"
	assert_output - <<'J'
[1,1,"update_preimage"]
[1,2,"update_postimage"]
J
	sed -i 's/"mergeKey":".k"/"mergeKey":"[.id, .k]"/' "$c"
	run sh -c "txlog changes t --from 2 | jq -c '[.id, .v, ._change_type]'"
	assert_output - <<'J'
[1,1,"update_preimage"]
[1,2,"update_postimage"]
J
}

@test "an overwrite that puts back a row as it was shows its delete and insert" {
	mk
	printf '{"id":1,"p":"x","v":1}\n{"id":7,"p":"x","v":7}\n' |
		txlog overwrite t --where 'p = "x"'
	run sh -c "txlog changes t --from 2 | jq -c '[._change_type, .id, .v]' | sort"
	assert_output - <<'J'
["delete",1,1]
["delete",3,3]
["insert",1,1]
["insert",7,7]
J
	run sh -c 'txlog cat t | jq -c .id | sort -n | tr "\n" " "'
	assert_output '1 2 7 '
}

@test "a restore that adds back an overwrite's file shows only the rows it changed" {
	txlog init t
	echo '{"id":1}' | txlog append t
	echo '{"id":2}' | txlog overwrite t
	echo '{"id":3}' | txlog append t
	txlog optimize t 2>/dev/null
	txlog restore t --version 2
	run sh -c "txlog changes t --from 5 | jq -c '[._change_type, .id]'"
	assert_output '["delete",3]'
	# --stats: the rows of the removed file (2, 3) and the added one (2)
	run sh -c "txlog changes t --from 5 --stats 2>&1 >/dev/null | jq -c '[.records_in, .records_out]'"
	assert_output '[3,1]'
}

@test "a table with a column named _change_type is refused" {
	txlog init t --infer
	echo '{"id":1,"_change_type":"x"}' | txlog append t
	run txlog changes t --from 0
	assert_failure 2
	assert_output 'txlog: t: column _change_type is a name the change data feed reserves (as in Delta); changes refused'
}

@test "a _change_type column a restore dropped from the schema is still refused where its rows are read" {
	txlog init t --infer
	echo '{"id":1}' | txlog append t
	echo '{"id":2,"_change_type":"x"}' | txlog append t --merge-schema
	txlog restore t --version 1
	run txlog changes t --from 1
	assert_failure 2
	assert_output 'txlog: t: column _change_type is a name the change data feed reserves (as in Delta); changes refused'
	run txlog changes t --from 3
	assert_failure 2
	assert_output 'txlog: t: column _change_type is a name the change data feed reserves (as in Delta); changes refused'
	echo '{"id":3}' | txlog append t
	run sh -c "txlog changes t --from 4 | jq -c '[._change_type, .id]'"
	assert_success
	assert_output '["insert",3]'
}

# Operation $1 (0-8) on t with random rows (RANDOM seeded by the caller).
random_op() {
	local k=$((RANDOM % 6 + 1)) r=$((RANDOM % 100)) p
	p=$([ $((RANDOM % 2)) = 0 ] && echo x || echo y)
	case $1 in
	0 | 1) printf '{"id":%d,"p":"%s","v":%d}\n{"id":%d,"p":"x","v":%d}\n' \
		$k $p $r $((k + 1)) $r | txlog append t ;;
	2) txlog delete t --where "id = $k" ;;
	3) txlog update t --set "v = $r" --where "id = $k" ;;
	4) printf '{"id":%d,"p":"%s","v":%d}\n{"id":%d,"v":%d}\n' \
		$k $p $r $((k + 3)) $((r + 1)) | txlog merge t -k .id ;;
	5) echo "{\"id\":$k,\"p\":\"$p\",\"v\":$r}" |
		txlog overwrite t --where "id = $k" ;;
	6) txlog optimize t ;;
	7) txlog restore t --version $((RANDOM % $(newest) + 1)) ;;
	8) txlog update t --set "p = $p" --where "p = \"$p\"" ;;
	esac
}

@test "changes between versions agrees with the rows of each version, over random operations" {
	for seed in 1; do
		rm -rf t
		RANDOM=$seed
		mk
		# every kind once, in a random order, then three at random
		for i in $(shuf -i 0-8 --random-source=<(yes $seed)) \
			$((RANDOM % 9)) $((RANDOM % 9)) $((RANDOM % 9)); do
			random_op "$i" 2>/dev/null
		done
		n=$(newest)
		# each change as VERSION, d (delete, preimage) or i, the row
		txlog changes t --from 2 | jq -r '[._commit_version,
			(if ._change_type == "delete" or ._change_type == "update_preimage" then "d" else "i" end),
			(del(._change_type, ._commit_version, ._commit_timestamp) | tojson)] | @tsv' > all
		txlog changes t --from 2 | jq -r '"\(._commit_version) \(._change_type)"' | sort | uniq -c > kinds
		txlog cat t --version 1 | sort > rows.1
		for v in $(seq 2 "$n"); do
			txlog cat t --version "$v" | sort > rows.$v
			awk -F'\t' -v v=$v '$1 == v && $2 == "d" { print $3 }' all | sort > del
			awk -F'\t' -v v=$v '$1 == v && $2 == "i" { print $3 }' all > ins
			# every deleted row was there, and the rest is the next version
			run comm -13 rows.$((v - 1)) del
			assert_output ''
			{ comm -23 rows.$((v - 1)) del; cat ins; } | sort > model
			run diff model rows.$v
			assert_success
			# the pre- and postimages pair up, as many as it updated
			c=t/_delta_log/$(printf %020d "$v").json
			pre=$(awk -v v=$v '$2 == v && $3 == "update_preimage" { print $1 }' kinds)
			post=$(awk -v v=$v '$2 == v && $3 == "update_postimage" { print $1 }' kinds)
			[ "$pre" = "$post" ]
			if grep -q '"operation":"UPDATE"' "$c"; then
				grep -q "\"numUpdatedRows\":\"$post\"" "$c"
			fi
			if grep -q '"operation":"MERGE"' "$c"; then
				grep -q "\"numTargetRowsUpdated\":\"${post:-0}\"" "$c"
			fi
		done
		# one version alone is its part of the range
		run sh -c "txlog changes t --from $n --to $n | jq -r ._commit_version | sort -u"
		[ -z "$output" ] || [ "$output" = "$n" ]
	done
}
