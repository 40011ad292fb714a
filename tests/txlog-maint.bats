#!/usr/bin/env bats
# txlog maintenance: optimize (compaction, z-order), vacuum (retention,
# orphans, time travel after it), verify (gaps, checksums, --deep) and
# stats -- and optimize beside concurrent appends.

load helpers

mk() { # t: partitioned by day, three appends of one record per day
	txlog init t --partition-by day
	for i in 1 2 3; do
		printf '{"id":%d,"day":"a","v":%d}\n{"id":%d,"day":"b","v":%d}\n' \
			$i $((i * 10)) $((i + 10)) $i | txlog append t
	done
}

nver() { ls t/_delta_log | grep -c '^[0-9]*\.json$'; }

old_ms() { echo $((($(date +%s) - 10 * 86400) * 1000)); }

# ---- optimize ----

@test "optimize compacts each partition's small files into one commit with dataChange false" {
	mk
	run txlog optimize t
	assert_success
	assert_output --regexp '^txlog: t: optimize: version 4 removes 6 files \([0-9]+ bytes\) of versions 1 to 3 and adds 2 \([0-9]+ bytes\), 6 records$'
	run sh -c "txlog files t | jq -c '[.partitionValues.day, .dataChange, (.stats | fromjson)]'"
	assert_output - <<'EOF'
["a",false,{"numRecords":3,"minValues":{"id":1,"day":"a","v":10},"maxValues":{"id":3,"day":"a","v":30},"nullCount":{"id":0,"day":0,"v":0}}]
["b",false,{"numRecords":3,"minValues":{"id":11,"day":"b","v":1},"maxValues":{"id":13,"day":"b","v":3},"nullCount":{"id":0,"day":0,"v":0}}]
EOF
	run sh -c "jq -c 'select(.remove) | .remove.dataChange' t/_delta_log/00000000000000000004.json | sort | uniq -c | tr -s ' '"
	assert_output ' 6 false'
	run sh -c "txlog log t | head -n 1 | jq -c '[.operation, .operationMetrics.numRemovedFiles, .operationMetrics.numAddedFiles, .operationMetrics.numRecords]'"
	assert_output '["OPTIMIZE","6","2","6"]'
}

@test "optimize of files one version wrote names that version, not versions 5 to 5" {
	mk
	txlog optimize t
	run txlog optimize t --zorder-by id --target-size 10 -j 1
	assert_output --regexp '^txlog: t: optimize: version 5 removes 2 files \([0-9]+ bytes\) of version 4 and adds 6 '
	run txlog optimize t
	assert_success
	assert_output --regexp '^txlog: t: optimize: version 6 removes 6 files \([0-9]+ bytes\) of version 5 and adds 2 \([0-9]+ bytes\), 6 records$'
	# and one file is one file
	txlog init u
	printf '{"a":1}\n{"a":2}\n' | txlog append u --merge-schema
	run txlog optimize u --zorder-by a --target-size 10 -j 1
	assert_output --regexp '^txlog: u: optimize: version 2 removes 1 file \([0-9]+ bytes\) of version 1 and adds 2 '
}

@test "optimize leaves the records unchanged as a multiset" {
	mk
	txlog cat t | sort > before
	txlog optimize t
	txlog cat t | sort > after
	run cmp before after
	assert_success
	run txlog verify t --deep
	assert_success
}

@test "optimize streams small files in commit order, also from a checkpoint" {
	# twelve commits: the tenth writes a checkpoint, whose adds all carry
	# its version; ordered by their random names, the rows would scramble
	txlog init t --infer
	for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
		echo "{\"i\":$i}" | txlog append t
	done
	run sh -c "txlog cat t | jq -c .i | paste -sd' '"
	assert_output '0 1 2 3 4 5 6 7 8 9 10 11'
	txlog optimize t
	run sh -c "txlog cat t | jq -c .i | paste -sd' '"
	assert_output '0 1 2 3 4 5 6 7 8 9 10 11'
	run sh -c "txlog files t | wc -l"
	assert_output 1
}

@test "a second optimize does nothing" {
	mk
	txlog optimize t
	run nver
	assert_output 5
	run txlog optimize t --stats
	assert_success
	assert_output --partial '"version":null,"files_removed":0,"bytes_removed":0,"files_added":0'
	run nver
	assert_output 5
}

@test "--target-size rolls output files at the size, uncompressed" {
	txlog init t
	for i in 0 1 2 3 4 5 6 7 8 9; do echo "{\"id\":$i,\"pad\":\"xxxxxxxxx\"}"; done > in
	while read -r l; do echo "$l" | txlog append t; done < in
	run sh -c "txlog files t | jq -r '.tags[\"idem.rawSize\"]' | sort -u"
	assert_output 27
	txlog optimize t --target-size 80
	run sh -c "txlog files t | jq -c '[(.stats | fromjson | .numRecords), .tags[\"idem.rawSize\"]]' | sort"
	assert_output - <<'EOF'
[1,"27"]
[3,"81"]
[3,"81"]
[3,"81"]
EOF
	run txlog optimize t --target-size 80 --stats
	assert_output --partial '"version":null'
}

@test "optimize --where compacts only the partitions it matches" {
	mk
	txlog optimize t --where 'day = a'
	run sh -c "txlog files t | jq -c '[.partitionValues.day, .dataChange]'"
	assert_output - <<'EOF'
["a",false]
["b",true]
["b",true]
["b",true]
EOF
	refused "txlog: optimize --where: v is not a partition column of t (optimize rewrites whole partitions; they are day)" \
		txlog optimize t --where 'v = 1'
}

@test "optimize refuses to take delta.targetFileSize, a size on disk, for its uncompressed target, unless --target-size chooses" {
	# it compacted to its default 256M uncompressed, the table's
	# property unread
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"day","type":"string","nullable":true,"metadata":{}}]}' > s.json
	txlog init t --schema s.json --partition-by day
	c=t/_delta_log/00000000000000000000.json
	sed -i 's/"configuration":{}/"configuration":{"delta.targetFileSize":"100mb"}/' "$c"
	unseal "$c"
	for i in 1 2; do echo "{\"id\":$i,\"day\":\"a\"}" | txlog append t; done
	run txlog optimize t
	assert_failure 2
	assert_output "txlog: t: the table sets delta.targetFileSize (100mb), a size of files on disk, which optimize cannot aim at: its --target-size is uncompressed; give --target-size; nothing optimized"
	run txlog optimize t --zorder-by id
	assert_failure 2
	[ "$(ls t/_delta_log | grep -c 'json$')" = 3 ]
	run txlog optimize t --target-size 1M
	assert_success
	assert_output --partial 'removes 2 files'
}

@test "optimize --where's did you mean offers partition columns only" {
	# it offered the nearest column of the table (data for datax),
	# which the next try was refused for
	txlog init t --infer --partition-by day
	echo '{"day":"a","data":1,"dayz":2}' | txlog append t
	refused "txlog: optimize --where: t has no partition column 'dat'; did you mean 'day'?" \
		txlog optimize t --where 'dat = a'
	refused "txlog: optimize --where: t has no partition column 'datax' (they are day)" \
		txlog optimize t --where 'datax = a'
	refused "txlog: optimize --where: dayz is not a partition column of t (optimize rewrites whole partitions; they are day)" \
		txlog optimize t --where 'dayz = 2'
	txlog init u --infer
	echo '{"day":"a"}' | txlog append u
	refused "txlog: optimize --where: u has no partition columns (optimize rewrites whole partitions): give no --where" \
		txlog optimize u --where 'day = a'
}

@test "optimize refuses to spread a damaged data file and commits nothing" {
	mk
	f=$(ls t/day=b/*.zst | head -n 1)
	printf 'x' >> "$f"
	run txlog optimize t
	assert_failure 2
	assert_output "txlog: t: day=b/$(basename "$f"): damaged data file (its size differs from the log's); run txlog verify"
	run nver
	assert_output 4
	# the same size, another byte: its checksum
	printf '\001' | dd of="$f" bs=1 seek=12 count=1 conv=notrunc status=none
	truncate -s -1 "$f"
	run txlog optimize t
	assert_failure 2
	assert_output "txlog: t: day=b/$(basename "$f"): damaged data file (run txlog verify); nothing optimized"
	run nver
	assert_output 4
}

@test "optimize recomputes statistics for files other writers made" {
	txlog init t
	printf '{"a":5}\n{"a":7,"b":"x"}\n' | zstd -q > t/f1.zst
	printf '{"a":1}\n' | zstd -q > t/f2.zst
	{
		for f in f1 f2; do
			echo "{\"add\":{\"path\":\"$f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/$f.zst),\"modificationTime\":0,\"dataChange\":true}}"
		done
	} > t/_delta_log/00000000000000000001.json
	txlog optimize t
	run sh -c "txlog files t | jq -c '.stats | fromjson'"
	assert_output '{"numRecords":3,"minValues":{"a":1,"b":"x"},"maxValues":{"a":7,"b":"x"},"nullCount":{"a":0,"b":2}}'
	run sh -c 'txlog cat t | sort'
	assert_output $'{"a":1}\n{"a":5}\n{"a":7,"b":"x"}'
}

grid() { # t: x and y in 0..15, appended in four files by x
	txlog init t
	for q in 0 1 2 3; do
		for x in $((q * 4)) $((q * 4 + 1)) $((q * 4 + 2)) $((q * 4 + 3)); do
			for y in $(seq 0 15); do echo "{\"x\":$x,\"y\":$y}"; done
		done | txlog append t
	done
}

read_of() { # TABLE PRED: "read N of M files"
	txlog cat "$1" --where "$2" --stats 2>&1 >/dev/null |
		jq -r '"read \(.files - .files_skipped) of \(.files)"'
}

@test "--zorder-by clusters records so a point query on either column reads few files" {
	grid
	run read_of t 'y = 3'
	assert_output 'read 4 of 4'
	txlog cat t | sort > before
	run txlog optimize t --zorder-by y,x --target-size 256
	assert_success
	run read_of t 'y = 3'
	assert_output 'read 4 of 16'
	run read_of t 'x = 3'
	assert_output 'read 4 of 16'
	run sh -c "txlog cat t --where 'x = 3' --where 'y = 3' | wc -l"
	assert_output 1
	txlog cat t | sort > after
	run cmp before after
	assert_success
	run sh -c "txlog files t | jq -r '.tags[\"idem.zorder\"]' | sort -u"
	assert_output 'y,x'
	run txlog verify t --deep
	assert_success
}

@test "a second z-order by the same columns does nothing; other columns redo it" {
	grid
	txlog optimize t --zorder-by y,x --target-size 256
	run nver
	assert_output 6
	txlog optimize t --zorder-by y,x --target-size 256
	run nver
	assert_output 6
	txlog optimize t --zorder-by x --target-size 256
	run nver
	assert_output 7
	run sh -c "txlog log t | head -n 1 | jq -r .operationParameters.zOrderBy"
	assert_output '["x"]'
}

@test "--zorder-by refuses unknown and partition columns" {
	mk
	run txlog optimize t --zorder-by nope
	assert_failure 2
	assert_output "txlog: --zorder-by: nope is not a column of the table (txlog schema lists them)
Try 'txlog optimize --help' for more information."
	run txlog optimize t --zorder-by vv
	assert_failure 2
	assert_output "txlog: --zorder-by: vv is not a column of the table; did you mean 'v'?
Try 'txlog optimize --help' for more information."
	# a merge key no column holds is named with the column it is near
	run sh -c 'echo "{\"id\":1,\"day\":\"a\",\"v\":5}" | txlog merge t -k .idd'
	assert_failure 2
	assert_output "txlog: -k .idd: t has no column 'idd' (did you mean .id?); nothing committed"
	# and one a record leaves out, by the record
	run sh -c 'echo "{\"id\":1,\"day\":\"a\"}" | txlog merge t -k .v'
	assert_failure 2
	assert_output "txlog: stdin:1: merge key .v is missing; nothing committed"
	run txlog optimize t --zorder-by v,day
	assert_failure 2
	assert_output "txlog: --zorder-by: day is a partition column (already one value per file)
Try 'txlog optimize --help' for more information."
}

@test "--zorder-by refuses a column given twice or an empty name, not taken as one column" {
	mk
	refused "txlog: --zorder-by: v is given twice" \
		txlog optimize t --zorder-by v,id,.v
	for z in v, ,v v,,id .; do
		refused "txlog: --zorder-by '$z': an empty column name" \
			txlog optimize t --zorder-by "$z"
	done
	run nver
	assert_output 4
}

@test "--zorder-by refuses a column without min/max statistics, as Delta does, and rewrites nothing" {
	txlog init t
	printf '%s\n' '{"id":1,"b":true,"s":{"x":1},"a":[1]}' \
		'{"id":2,"b":false,"s":{"x":2},"a":[2]}' | txlog append t
	for c in b:boolean s:struct a:array; do
		refused "txlog: --zorder-by: ${c%%:*} is of type ${c#*:}, which has no min/max statistics: z-ordered by it, no file would be skipped" \
			txlog optimize t --zorder-by "id,${c%%:*}"
	done
	run nver
	assert_output 2
	run txlog optimize t --zorder-by id
	assert_success
}

@test "optimize and vacuum beside concurrent appends keep every record exactly once" {
	txlog init t --partition-by p
	for i in $(seq 1 10); do echo "{\"p\":$((i % 2)),\"i\":$i}"; done > seed
	while read -r l; do echo "$l" | txlog append t; done < seed
	(
		for i in $(seq 11 50); do
			echo "{\"p\":$((i % 2)),\"i\":$i}" | txlog append t || echo "append $i" >> fails
		done
	) &
	(
		for k in 1 2 3 4 5 6; do
			if txlog optimize t 2>/dev/null; then echo 0; else echo $?; fi >> orc
		done
	) &
	(
		for k in 1 2 3 4 5 6; do
			txlog vacuum t || echo "vacuum $k" >> fails
		done
	) &
	wait
	[ ! -e fails ]
	run sh -c 'sort -u orc | tr "\n" " "'
	[[ "$output" =~ ^(0 |0 75 |75 )$ ]]
	run sh -c 'txlog cat t | jq .i | sort -n | tr "\n" " "'
	assert_output "$(seq 1 50 | tr '\n' ' ')"
	run txlog verify t --deep
	assert_success
}

@test "a delete that removes files an optimize read makes one of them exit 75" {
	txlog init t --partition-by day
	# day a is compacted first; 100 more partitions keep the optimize
	# busy after (a file sealed and synced for each)
	echo '{"day":"a","o":-1}' | txlog append t
	echo '{"day":"a","o":-2}' | txlog append t
	for k in 0 1; do
		awk -v k=$k 'BEGIN { for (i = 0; i < 100; i++)
			printf "{\"day\":\"b%03d\",\"o\":%d}\n", i, k * 100 + i }' |
			txlog append t
	done
	( if txlog optimize t 2>oerr; then echo 0; else echo $?; fi > orc ) &
	# once the optimize has read day a and writes the next partition
	# (a third file there, a temp or its output), delete day a
	for _ in $(seq 1 500); do
		[ "$(ls t/day=b000 | wc -l)" -gt 2 ] && break
		sleep 0.01
	done
	if txlog delete t --where 'day = a' 2>derr; then echo 0; else echo $?; fi > drc
	wait
	echo "# optimize exit $(cat orc), delete exit $(cat drc)" >&3
	run cat orc drc
	if [ "$(cat orc)" = 75 ]; then
		assert_output $'75\n0'
		run grep -c 'which this OPTIMIZE read; nothing written, retry' oerr
		assert_output 1
	elif [ "$(cat drc)" = 75 ]; then
		# the optimize committed first: then the delete lost
		assert_output $'0\n75'
	else
		# no race after all: the delete read what the optimize wrote
		assert_output $'0\n0'
		run sh -c "txlog log t | jq -r 'select(.operation == \"DELETE\") | .readVersion'"
		assert_output 5
	fi
	run sh -c 'txlog cat t | wc -l'
	if [ "$(cat drc)" = 0 ]; then
		assert_output 200
		run sh -c "txlog cat t --where 'day = a' | wc -l"
		assert_output 0
	else
		assert_output 202
	fi
	run sh -c 'find t -name "*.tmp.*" | wc -l'
	assert_output 0
	run txlog verify t
	assert_success
}

# ---- vacuum ----

@test "vacuum with the default retention keeps files removed recently" {
	mk
	txlog optimize t
	run txlog vacuum t --dry-run
	assert_success
	assert_output '{"dry_run":true,"files":0,"bytes":0}'
	run sh -c 'find t -name "*.zst" | wc -l'
	assert_output 8
}

@test "vacuum takes the table's delta.deletedFileRetentionDuration as its default and its minimum" {
	mk
	# another writer's commit sets 30 days
	jq -c 'select(.metaData) | .metaData.configuration["delta.deletedFileRetentionDuration"] = "interval 30 days"' \
		t/_delta_log/00000000000000000000.json > t/_delta_log/00000000000000000004.json
	txlog optimize t
	run txlog vacuum t --retain 8d
	assert_failure 2
	assert_output "txlog: t: --retain 8d is under the 30d (delta.deletedFileRetentionDuration) minimum: it would break time travel further back than 8d; add --force if no reader needs that"
	# orphans 10 and 40 days old: the table's 30 days keep the first
	printf 'junk' > t/day=a/part-00000-ten.c000.ndjson.zst.tmp.abcdef
	touch -d '10 days ago' t/day=a/part-00000-ten.c000.ndjson.zst.tmp.abcdef
	printf 'junk' > t/day=a/part-00000-forty.c000.ndjson.zst.tmp.abcdef
	touch -d '40 days ago' t/day=a/part-00000-forty.c000.ndjson.zst.tmp.abcdef
	run txlog vacuum t --dry-run
	assert_success
	assert_output - <<'EOF'
{"path":"day=a/part-00000-forty.c000.ndjson.zst.tmp.abcdef","bytes":4,"reason":"orphan"}
{"dry_run":true,"files":1,"bytes":4}
EOF
	jq -c '.metaData.configuration["delta.deletedFileRetentionDuration"] |= "interval 1 fortnight"' \
		t/_delta_log/00000000000000000004.json > t/_delta_log/00000000000000000006.json
	run txlog vacuum t
	assert_failure 2
	assert_output "txlog: t: delta.deletedFileRetentionDuration is not a duration txlog reads (such as 'interval 7 days'); nothing deleted"
}

@test "a retention under 7 days is refused without --force, naming the versions it breaks" {
	mk
	txlog optimize t
	sleep 1.1
	run txlog vacuum t --retain 1s
	assert_failure 2
	assert_output --partial "txlog: t: --retain 1s is under the 7d minimum: it would break time travel to versions 0 to 3 (before "
	assert_output --partial "); add --force if no reader needs them"
	run sh -c 'find t -name "*.zst" | wc -l'
	assert_output 8
}

@test "vacuum --retain 0s --force deletes removed files and keeps the live ones" {
	mk
	txlog cat t | sort > before
	txlog optimize t
	sleep 0.01
	run sh -c "txlog vacuum t --retain 0s --force --dry-run | tail -n 1 | jq -c '[.files]'"
	assert_output '[6]'
	run sh -c 'txlog vacuum t --retain 0s --force --dry-run | head -n -1 | jq -r .reason | sort | uniq -c | tr -s " "'
	assert_output ' 6 removed'
	run txlog vacuum t --retain 0s --force
	assert_success
	assert_output --regexp '^txlog: t: vacuum: deleted 6 files \([0-9]+ bytes\), added none, kept 0 too young; versions before 4 can no longer be read$'
	run sh -c 'find t -name "*.zst" | wc -l'
	assert_output 2
	txlog cat t | sort > after
	run cmp before after
	assert_success
	run txlog verify t
	assert_success
}

@test "vacuum deletes files removed before the retention, by deletionTimestamp" {
	txlog init t
	echo '{"a":1}' | txlog append t
	a=$(txlog files t | jq -r .path)
	txlog delete t --where 'a = 1'
	echo '{"a":2}' | txlog append t
	echo '{"a":3}' | txlog append t
	b=$(txlog files t --version 3 | jq -r .path)
	txlog delete t --where 'a = 2'
	# versions 1 and 2 happened ten days ago; 3 and 4 now
	old=$(old_ms)
	for v in 1 2; do
		f=t/_delta_log/0000000000000000000$v.json
		jq -c --argjson t "$old" 'if .commitInfo then .commitInfo.timestamp = $t
			elif .remove then .remove.deletionTimestamp = $t else . end' "$f" > x && mv x "$f"
		unseal "$f"
	done
	# and so were their commit files, whose times time travel reads
	touch -d '11 days ago' t/_delta_log/00000000000000000000.json
	touch -d '10 days ago' t/_delta_log/00000000000000000001.json \
		t/_delta_log/00000000000000000002.json
	size=$(stat -c %s "t/$a")
	run txlog vacuum t --dry-run
	assert_output - <<EOF
{"path":"$a","bytes":$size,"reason":"removed"}
{"dry_run":true,"files":1,"bytes":$size}
EOF
	txlog vacuum t
	[ ! -e "t/$a" ]
	[ -e "t/$b" ]
	# time travel within the retention still reads everything it needs
	run txlog cat t --version 3
	assert_output '{"a":2}'
}

@test "vacuum keeps what time travel to the horizon reads, by the commit times --as-of reads" {
	txlog init t
	echo '{"a":1}' | txlog append t
	a=$(txlog files t | jq -r .path)
	txlog delete t --where 'a = 1'
	# the delete's writer had a clock two hours behind: its commitInfo
	# and remove say two hours ago, its commit file was written now
	old=$((($(date +%s) - 7200) * 1000))
	f=t/_delta_log/00000000000000000002.json
	unseal "$f"
	jq -c --argjson t "$old" 'if .commitInfo then .commitInfo.timestamp = $t
		elif .remove then .remove.deletionTimestamp = $t else . end' "$f" > x && mv x "$f"
	touch -d '3 hours ago' t/_delta_log/00000000000000000000.json \
		t/_delta_log/00000000000000000001.json "t/$a"
	run txlog vacuum t --retain 1h --force
	assert_success
	assert_output 'txlog: t: vacuum: deleted 0 files (0 bytes), added none, kept 0 too young; no version lost a file'
	run txlog cat t --as-of -1h
	assert_success
	assert_output '{"a":1}'
}

@test "vacuum deletes orphans older than the retention, not younger ones" {
	mk
	mkdir -p t/day=a
	printf 'junk' > t/day=a/part-00000-dead.c000.ndjson.zst.tmp.abcdef
	touch -d '10 days ago' t/day=a/part-00000-dead.c000.ndjson.zst.tmp.abcdef
	printf 'new' > t/day=a/part-00001-young.c000.ndjson.zst
	run txlog vacuum t --dry-run
	assert_output - <<'EOF'
{"path":"day=a/part-00000-dead.c000.ndjson.zst.tmp.abcdef","bytes":4,"reason":"orphan"}
{"dry_run":true,"files":1,"bytes":4}
EOF
	txlog vacuum t
	[ ! -e t/day=a/part-00000-dead.c000.ndjson.zst.tmp.abcdef ]
	[ -e t/day=a/part-00001-young.c000.ndjson.zst ]
}

@test "vacuum removes partition folders left empty and older than the retention, not young or non-empty ones" {
	mk
	# a killed writer's folders: one with an old orphan, one empty and
	# old, one empty and young, one nested two levels, all old
	mkdir -p t/day=x t/day=y t/day=z t/day=n/hour=1
	printf 'junk' > t/day=x/part-00000-dead.c000.ndjson.zst.tmp.abcdef
	touch -d '10 days ago' t/day=x/part-00000-dead.c000.ndjson.zst.tmp.abcdef
	touch -d '10 days ago' t/day=x t/day=y t/day=n/hour=1 t/day=n
	live=$(find t -name '*.zst' ! -name '*.tmp.*' | wc -l)
	txlog vacuum t --dry-run > /dev/null
	[ -d t/day=x ] && [ -d t/day=y ] # a dry run removes nothing
	run txlog vacuum t
	assert_success
	assert_output --partial 'deleted 1 files (4 bytes)'
	[ ! -e t/day=x ] && [ ! -e t/day=y ] && [ ! -e t/day=n ]
	[ -d t/day=z ] # young: maybe a writer's, about to add its file
	# the table's own folders and files are all there
	[ "$(find t -name '*.zst' ! -name '*.tmp.*' | wc -l)" = "$live" ]
	run txlog verify t
	assert_success
}

@test "vacuum never touches _delta_log, hidden files, or what a symlink points to" {
	mk
	mkdir outside
	echo keep > outside/data.zst
	touch -d '10 days ago' outside/data.zst
	ln -s ../outside t/link
	ln -s ../outside/data.zst t/day=a/linked.zst
	echo x > t/.hidden
	echo x > t/_side
	touch -d '10 days ago' t/.hidden t/_side t/_delta_log/*
	ls t/_delta_log > log-before
	txlog vacuum t --retain 0s --force
	[ -e outside/data.zst ]
	[ -L t/link ]
	[ -L t/day=a/linked.zst ]
	[ -e t/.hidden ]
	[ -e t/_side ]
	ls t/_delta_log > log-after
	run cmp log-before log-after
	assert_success
}

@test "time travel to a vacuumed version fails before writing anything" {
	mk
	txlog optimize t
	txlog vacuum t --retain 0s --force
	run sh -c 'txlog cat t --version 2 2>/dev/null; echo "exit $?"'
	assert_output 'exit 2'
	run txlog cat t --version 2
	assert_output --regexp "^txlog: t: version 2 needs day=[ab]/part-[^ ]*, which is gone \(vacuumed\?\): time travel to version 2 is no longer possible; nothing read$"
	run sh -c 'txlog files t --version 1 2>/dev/null; echo "exit $?"'
	assert_output 'exit 2'
	run sh -c 'txlog cat t --version 4 | wc -l'
	assert_output 6
}

@test "a cat of a vacuumed version reads the files its --where needs, and refuses when it needs a gone one" {
	mk
	txlog optimize t --where 'day = b' 2>/dev/null
	txlog vacuum t --retain 0s --force 2>/dev/null
	run sh -c "txlog cat t --version 3 --where 'day = a' | jq -c .id | tr '\n' ' '"
	assert_output '1 2 3 '
	run sh -c 'txlog cat t --version 3 2>/dev/null; echo "exit $?"'
	assert_output 'exit 2'
}

# big: six appends of 3000 rows (180 KB of output a file), optimized, so
# that a cat of version 6 blocks on a pipe inside the first file
big() {
	txlog init t --infer
	for i in 1 2 3 4 5 6; do
		seq $((i * 10000)) $((i * 10000 + 2999)) |
			sed 's/.*/{"id":&,"pad":"0123456789012345678901234567890123456789"}/' |
			txlog append t
	done
	txlog optimize t 2>/dev/null
}

# cat_vacuumed ARGS: txlog cat t ARGS into got (exit status in rc), with
# a vacuum --retain 0s --force run once the first row is out
cat_vacuumed() {
	rm -f reading vacuumed
	( if txlog cat t "$@" 2>err; then echo 0 > rc; else echo $? > rc; fi ) | {
		read -r l || true
		echo "$l"
		touch reading
		while [ ! -e vacuumed ]; do sleep 0.01; done
		cat
	} > got &
	while [ ! -e reading ]; do sleep 0.01; done
	txlog vacuum t --retain 0s --force 2>/dev/null
	touch vacuumed
	wait
}

@test "a cat of an old version that a vacuum deletes midway gives every row of it, with any -j" {
	for j in 1 2; do
		rm -rf t
		big
		txlog cat t --version 6 | sort > want
		cat_vacuumed --version 6 -j $j
		# the files were deleted under it
		run sh -c 'ls t | grep -c zst'
		assert_output 1
		run cat rc err
		assert_output 0
		sort got | cmp - want
	done
}

@test "a cat refuses before any row when a data file of its version is gone" {
	txlog init t --infer
	echo '{"id":1}' | txlog append t
	echo '{"id":2}' | txlog append t
	rm "t/$(txlog files t --version 2 | jq -r 'select(.stats | fromjson | .minValues.id == 2) | .path')"
	run sh -c 'txlog cat t 2>/dev/null; echo "exit $?"'
	assert_output 'exit 2'
	refused "txlog: t: version 2 needs $(txlog files t | jq -r 'select(.stats | fromjson | .minValues.id == 2) | .path'), which is gone (vacuumed after a newer version removed it, or deleted: txlog verify says); nothing read" \
		txlog cat t -j 1
}

@test "a cat of more files than the open-file limit lets it hold says so and reads them one at a time" {
	txlog init t --infer
	for i in $(seq 1 20); do echo "{\"id\":$i}"; done > in
	while read -r l; do echo "$l" | txlog append t; done < in
	# 24 descriptors: a quarter kept for the rest, and those open
	run sh -c 'ulimit -n 24 && txlog cat t -j 1 2>err | jq -c .id | tr "\n" " "; cat err'
	assert_output "$(seq 1 20 | tr '\n' ' ')txlog: t: 20 data files to read, more than the open-file limit (24) lets txlog hold open at once; reading them one at a time: a vacuum meanwhile may stop this read after some rows"
	# 18 files: no more than 24 less the quarter, but the descriptors
	# the process has open already leave no room for the last ones
	run sh -c 'ulimit -n 24 && txlog cat t -j 1 --where "id <= 18" 2>err | wc -l; cat err'
	assert_output "18
txlog: t: 18 data files to read, more than the open-file limit (24) lets txlog hold open at once; reading them one at a time: a vacuum meanwhile may stop this read after some rows"
	run sh -c 'ulimit -n 24 && txlog cat t -j 1 --where "id <= 10" | wc -l'
	assert_success
	assert_output 10
}

@test "changes gives every row of its range when a vacuum deletes its files midway" {
	big
	echo '{"id":10000,"pad":"x"}' | txlog merge t -k .id 2>/dev/null
	txlog changes t --from 1 | sort > want
	rm -f reading vacuumed
	( if txlog changes t --from 1 2>err; then echo 0 > rc; else echo $? > rc; fi ) | {
		read -r l || true
		echo "$l"
		touch reading
		while [ ! -e vacuumed ]; do sleep 0.01; done
		cat
	} > got &
	while [ ! -e reading ]; do sleep 0.01; done
	txlog vacuum t --retain 0s --force 2>/dev/null
	touch vacuumed
	wait
	run cat rc err
	assert_output 0
	sort got | cmp - want
	run sh -c 'wc -l < want'
	assert_output 18002
}

@test "a merge whose file a concurrent delete removed and a vacuum took exits 75, and its retry commits" {
	txlog init t --infer
	echo '{"id":1,"v":1}' | txlog append t
	echo '{"id":2,"v":2}' | txlog append t
	mkfifo src
	( if txlog merge t -k .id src 2>err; then echo 0 > rc; else echo $? > rc; fi ) &
	pid=$!
	# the merge opens its source once its snapshot is loaded
	exec 4> src
	txlog delete t --where 'id = 1'
	txlog vacuum t --retain 0s --force 2>/dev/null
	echo '{"id":2,"v":5}' >&4
	exec 4>&-
	wait $pid
	run cat rc err
	assert_output --regexp '^75
txlog: t: part-00000-[-0-9a-f]*\.c000\.ndjson\.zst, which this MERGE reads, was removed by a concurrent writer \(version 3 is the newest\) and vacuumed; nothing written, retry$'
	run sh -c 'txlog cat t | jq -c .'
	assert_output '{"id":2,"v":2}'
	echo '{"id":2,"v":5}' | txlog merge t -k .id
	run sh -c 'txlog cat t | jq -c .'
	assert_output '{"id":2,"v":5}'
}

@test "cats of old versions beside appends, optimize and vacuum --retain 0s give their exact rows or nothing" {
	txlog init t --infer
	: > expected
	(
		for k in $(seq 1 12); do
			for a in 1 2 3; do
				seq 1 2000 | sed "s/.*/{\"id\":$((k * 10 + a))&,\"pad\":\"0123456789012345678901234567890123456789\"}/" > in.$k
				v=$(txlog append t --stats in.$k 2>&1 | jq .version)
				echo "$v $((k * 10 + a))" >> expected
			done
			txlog optimize t 2>/dev/null
			txlog vacuum t --retain 0s --force 2>/dev/null
		done
		touch done
	) &
	: > bad
	n=0 whole=0
	while [ ! -e done ]; do
		last=$(tail -n 1 expected | cut -d' ' -f1)
		[ -n "$last" ] || continue
		v=$((last - RANDOM % 3))
		[ $v -ge 1 ] || continue
		j=$((RANDOM % 2 + 1))
		n=$((n + 1))
		if txlog cat t --version $v -j $j > out 2> err; then
			want=$(awk -v v=$v '$1 <= v {print $2}' expected |
				jq -s -c '[.[] as $p | range(1; 2001) | "\($p)\(.)" | tonumber] | sort')
			got=$(jq -s -c 'map(.id) | sort' out)
			[ "$got" = "$want" ] || echo "version $v -j $j: $(wc -l < out) rows, not its own" >> bad
			whole=$((whole + 1))
		else
			rc=$?
			[ $rc = 2 ] && [ ! -s out ] ||
				echo "version $v -j $j: exit $rc after $(wc -l < out) rows: $(cat err)" >> bad
		fi
	done
	wait
	echo "# $n cats, $whole whole, $((n - whole)) refused" >&3
	run cat bad
	assert_output ''
}

# ---- log cleanup ----

ones() { # t: versions 0 to $1, one row a commit (the tenth checkpoints)
	txlog init t --infer
	for i in $(seq 1 "$1"); do
		echo "{\"i\":$i}" | txlog append t
	done
}

# config KEY VALUE: a commit of another writer that sets a table property
config() {
	local v
	v=$(printf '%020d' "$(ls t/_delta_log | grep -c '^[0-9]*\.json$')")
	jq -c --arg k "$1" --arg v "$2" \
		'select(.metaData) | .metaData.configuration[$k] = $v' \
		t/_delta_log/00000000000000000000.json > "t/_delta_log/$v.json"
}

age() { # age DAYS VERSION...: the commits' times, DAYS ago
	local d=$1
	shift
	for v in "$@"; do
		touch -d "$d days ago" "t/_delta_log/$(printf '%020d' "$v").json"
	done
}

@test "a checkpoint deletes the log its checkpoint stands in for once it is older than 30 days" {
	ones 11
	age 40 $(seq 0 11)
	# another writer's checksum and compaction files go too, a temp file stays
	touch t/_delta_log/00000000000000000003.crc \
		t/_delta_log/00000000000000000001.00000000000000000004.compacted.json \
		t/_delta_log/00000000000000000005.json.tmp.AbC123
	run txlog checkpoint t
	assert_success
	assert_output 'txlog: t: log cleanup: deleted the 14 log files below version 11, older than the log retention (30d); its checkpoint stands in for them'
	run sh -c 'ls t/_delta_log | sed "s/checkpoint\.[-0-9a-f]*\.json/checkpoint.UUID.json/"'
	assert_output - <<'EOF'
00000000000000000005.json.tmp.AbC123
00000000000000000011.checkpoint.UUID.json
00000000000000000011.json
_last_checkpoint
EOF
	run sh -c "txlog cat t | jq -c .i | paste -sd' '"
	assert_output '1 2 3 4 5 6 7 8 9 10 11'
	run txlog verify t
	assert_success
	run txlog cat t --version 5
	assert_failure 2
	assert_output 'txlog: t: version 5 cannot be read: its commits were cleaned up (the oldest kept is 11) and no checkpoint at or below it replaces them'
	run txlog cat t --as-of 2020-01-01
	assert_failure 2
	assert_output 'txlog: t: the version current at 2020-01-01 cannot be read: the log before version 11 was cleaned up'
	run txlog checkpoint t
	assert_success
	assert_output ''
}

@test "log cleanup keeps what time travel within the retention needs: from the newest checkpoint at or below the cutoff commit" {
	ones 12
	txlog checkpoint t # a second checkpoint, at 12
	# commits 0 to 5 are old: no checkpoint at or below 5, nothing goes
	age 40 $(seq 0 5)
	echo '{"i":13}' | txlog append t
	run txlog checkpoint t
	assert_success
	assert_output ''
	run sh -c 'ls t/_delta_log | grep -c "^[0-9]*\.json$"'
	assert_output 14
	# commits 0 to 11 old: the checkpoint at 10 stands in, not the one at 12
	age 40 $(seq 0 11)
	run txlog checkpoint t
	assert_success
	assert_output 'txlog: t: log cleanup: deleted the 10 log files below version 10, older than the log retention (30d); its checkpoint stands in for them'
	run sh -c 'ls t/_delta_log | grep "^[0-9]*\.json$" | sed "s/^0*//" | paste -sd" "'
	assert_output '10.json 11.json 12.json 13.json'
	run sh -c "txlog cat t --version 11 | jq -c .i | paste -sd' '"
	assert_output '1 2 3 4 5 6 7 8 9 10 11'
}

@test "log cleanup honours delta.enableExpiredLogCleanup and delta.logRetentionDuration, and says when it cannot read it" {
	txlog init t --infer
	config delta.enableExpiredLogCleanup false
	for i in $(seq 2 11); do echo "{\"i\":$i}" | txlog append t; done
	age 40 $(seq 0 11)
	run txlog checkpoint t
	assert_success
	assert_output ''
	run sh -c 'ls t/_delta_log | grep -c "^[0-9]*\.json$"'
	assert_output 12

	rm -rf t
	txlog init t --infer
	config delta.logRetentionDuration 'interval 60 days'
	for i in $(seq 2 11); do echo "{\"i\":$i}" | txlog append t; done
	age 40 $(seq 0 11)
	run txlog checkpoint t
	assert_success
	assert_output ''
	config delta.logRetentionDuration 'INTERVAL 2 Days 12 hours'
	age 40 12
	run txlog checkpoint t
	assert_success
	assert_output 'txlog: t: log cleanup: deleted the 14 log files below version 12, older than the log retention (2d12h); its checkpoint stands in for them'

	rm -rf t
	txlog init t --infer
	config delta.logRetentionDuration 'interval 1 month'
	age 40 0 1
	run txlog checkpoint t
	assert_success
	assert_output "txlog: t: delta.logRetentionDuration is not a duration txlog reads (such as 'interval 30 days'); the log is not cleaned up"
	run sh -c 'ls t/_delta_log | grep -c "^[0-9]*\.json$"'
	assert_output 2
}

@test "a checkpoint keeps tombstones for the table's delta.deletedFileRetentionDuration, 7 days without one" {
	for keep in '' 'interval 30 days' 'interval 1 month'; do
		rm -rf t
		ones 2
		[ -z "$keep" ] || config delta.deletedFileRetentionDuration "$keep"
		# another writer removed version 1's file ten days ago
		v=$(printf '%020d' "$(ls t/_delta_log | grep -c '^[0-9]*\.json$')")
		jq -c --argjson at $((($(date +%s) - 10 * 86400) * 1000)) \
			'select(.add) | {remove: {path: .add.path, deletionTimestamp: $at, dataChange: true}}' \
			t/_delta_log/00000000000000000001.json > "t/_delta_log/$v.json"
		txlog checkpoint t
		run sh -c 'cat t/_delta_log/*.checkpoint.*.json | grep -c "\"remove\""'
		if [ -z "$keep" ]; then
			assert_output 0
		else # kept: within 30 days, or a retention not read
			assert_output 1
		fi
	done
}

@test "log cleanup leaves the log whole when the checkpoint that would stand in for it is damaged" {
	ones 11
	txlog checkpoint t # at 11: the newest, read by every load
	echo '{"i":12}' | txlog append t
	age 40 $(seq 0 10)
	cp10=$(ls t/_delta_log/00000000000000000010.checkpoint.*.json)
	sed -i 's/"numRecords\\":1/"numRecords\\":2/' "$cp10"
	run txlog checkpoint t
	assert_success
	assert_output "txlog: t: the log is not cleaned up: t: damaged checkpoint $cp10 (its bytes differ from the checksum txlog wrote in it); run txlog verify"
	run sh -c 'ls t/_delta_log | grep -c "^[0-9]*\.json$"'
	assert_output 13
}

# ---- verify ----

@test "verify checks the files of the snapshot it loaded, held open, when a vacuum deletes them meanwhile" {
	txlog init t --infer
	for i in 1 2 3; do echo "{\"id\":$i}" | txlog append t; done
	# another writer's file, first by path, whose statistics say 2 rows:
	# verify --deep stops at that problem while the vacuum runs
	echo '{"id":9}' | zstd -q > t/a.zst
	echo "{\"add\":{\"path\":\"a.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/a.zst),\"modificationTime\":0,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":2}\"}}" \
		> t/_delta_log/00000000000000000004.json
	run stopped_at_message txlog verify --deep t -- \
		'echo "{\"id\":7}" | txlog overwrite t && txlog vacuum t --retain 0s --force 2>/dev/null'
	# it said: t: part-...: data file missing or unreadable (added in version 1), for each
	assert_failure 1
	assert_output 'txlog: t: a.zst: 1 records, its statistics say numRecords 2'
	run sh -c 'ls t | grep -c zst'
	assert_output 1
}

@test "verify says a file deleted before it could hold it went away under it, not damage" {
	txlog init t --infer
	for i in 1 2; do echo "{\"id\":$i}" | txlog append t; done
	f1=$(txlog files t | jq -r .path | sort | head -1)
	f2=$(txlog files t | jq -r .path | sort | tail -1)
	# a stale temp file: a problem said after the load, before the hold
	touch -d '1 hour ago' t/_delta_log/00000000000000000003.json.tmp.x
	run stopped_at_message txlog verify t -- \
		'echo "{\"id\":7}" | txlog overwrite t && txlog vacuum t --retain 0s --force 2>/dev/null'
	assert_failure 1
	assert_output "txlog: t: _delta_log/00000000000000000003.json.tmp.x: a temporary file left by an interrupted commit (txlog vacuum removes it)
txlog: t: $f1: deleted while verify ran (version 3 no longer has it: a vacuum); not checked, not damage
txlog: t: $f2: deleted while verify ran (version 3 no longer has it: a vacuum); not checked, not damage"
}

@test "verify lists a missing version and exits 1" {
	mk
	rm t/_delta_log/00000000000000000002.json
	run txlog verify t
	assert_failure 1
	assert_output 'txlog: t: version 2 is missing from the log'
	cp t/_delta_log/00000000000000000003.json t/_delta_log/00000000000000000004.json
	rm t/_delta_log/00000000000000000003.json
	run txlog verify t
	assert_failure 1
	assert_line 'txlog: t: versions 2 to 3 are missing from the log'
}

@test "verify --deep checks every record against the add's statistics" {
	txlog init t
	printf '{"a":5}\n{"a":9,"b":null}\n' | zstd -q > t/f.zst
	echo "{\"add\":{\"path\":\"f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/f.zst),\"modificationTime\":0,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":2,\\\"minValues\\\":{\\\"a\\\":6},\\\"maxValues\\\":{\\\"a\\\":9},\\\"nullCount\\\":{\\\"a\\\":0,\\\"b\\\":0}}\"}}" \
		> t/_delta_log/00000000000000000001.json
	run txlog verify t
	assert_success
	run txlog verify t --deep
	assert_failure 1
	assert_output - <<'EOF'
txlog: t: f.zst: column a has a value below its minValues 6
txlog: t: f.zst: column b has 2 nulls, its statistics say 0
EOF
}

@test "verify --deep finds a row of another writer that does not fit the table's schema" {
	# a "5" in a long column passed, and cat --where 'a > 1' matched it
	# by JSON's order, a string above every number
	echo '{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]}' > s.json
	txlog init t --schema s.json
	echo '{"a":1}' | txlog append t
	printf '{"a":5}\n{"a":"5"}\n{"a":7,"b":1}\n' | zstd -q > t/f.zst
	printf '{"a":5.5}\n' | zstd -q > t/g.zst
	printf '{"a":6}\n' | zstd -q > t/h.zst
	for f in f g h; do
		echo "{\"add\":{\"path\":\"$f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/$f.zst),\"modificationTime\":0,\"dataChange\":true}}"
	done > t/_delta_log/00000000000000000002.json
	run txlog verify t
	assert_success
	run txlog verify t --deep
	assert_failure 1
	assert_output - <<'EOF'
txlog: t: f.zst:2: the row does not fit the table's schema: column .a: string where the schema has long
txlog: t: g.zst:1: the row does not fit the table's schema: column .a: 5.5 does not fit long (declare the column double or decimal(P,S) in a new table: Delta widens no long to double)
EOF
}

@test "verify --deep finds a record that is not JSON and a wrong record count" {
	txlog init t
	printf '{"a":5}\nnot json\n' | zstd -q > t/f.zst
	echo "{\"add\":{\"path\":\"f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/f.zst),\"modificationTime\":0,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":3}\"}}" \
		> t/_delta_log/00000000000000000001.json
	run txlog verify t --deep
	assert_failure 1
	assert_output - <<'EOF'
txlog: t: f.zst:2: not a JSON object record (damaged data file)
txlog: t: f.zst: 2 records, its statistics say numRecords 3
EOF
}

@test "verify --deep passes on what txlog wrote, merged and deleted" {
	mk
	echo '{"id":2,"day":"a","v":99}' | txlog merge t -k .id
	txlog delete t --where 'v = 1'
	txlog optimize t
	run txlog verify t --deep
	assert_success
	assert_output ''
}

# ---- stats ----

@test "stats gives files, records and small files per partition as NDJSON" {
	mk
	run sh -c "txlog stats t | jq -c 'del(.bytes)'"
	assert_output - <<'EOF'
{"partition":{"day":"a"},"files":3,"raw_bytes":78,"records":3,"small_files":3,"sizes":{"<64KiB":3,"<1MiB":0,"<16MiB":0,"<256MiB":0,">=256MiB":0}}
{"partition":{"day":"b"},"files":3,"raw_bytes":78,"records":3,"small_files":3,"sizes":{"<64KiB":3,"<1MiB":0,"<16MiB":0,"<256MiB":0,">=256MiB":0}}
{"table":"t","version":3,"partitions":2,"files":6,"raw_bytes":156,"records":6,"small_files":6,"sizes":{"<64KiB":6,"<1MiB":0,"<16MiB":0,"<256MiB":0,">=256MiB":0}}
EOF
	txlog optimize t
	run sh -c "txlog stats t --target-size 50 | jq -c '[.files, .small_files]'"
	assert_output $'[1,0]\n[1,0]\n[2,0]'
}

@test "stats and optimize take a partition by its value as the column's type reads it, not by its spelling" {
	# another writer's 1.50, "\u00e9" and 0.10000000000000001 are
	# partition 1.5, "é" and 0.1 of a decimal, string and double column:
	# stats counted two partitions, and optimize left the two small
	# files of one partition apart
	cat > s.json <<'J'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"d","type":"decimal(10,2)","nullable":true,"metadata":{}},{"name":"s","type":"string","nullable":true,"metadata":{}},{"name":"x","type":"double","nullable":true,"metadata":{}}]}
J
	txlog init t --schema s.json --partition-by d --partition-by s --partition-by x
	for i in 1 2; do
		echo "{\"id\":$i,\"d\":1.5,\"s\":\"é\",\"x\":0.1}" | txlog append t
	done
	c=t/_delta_log/00000000000000000002.json
	sed -i 's/"partitionValues":{"d":"1.5","s":"é","x":"0.1"}/"partitionValues":{"d":"1.50","s":"\\u00e9","x":"0.10000000000000001"}/' "$c"
	unseal "$c"
	run sh -c "grep -c '\"d\":\"1.50\",\"s\":\"\\\\u00e9\"' $c"
	assert_output 1
	run sh -c "txlog stats t | jq -c '[.partition, .partitions, .files]'"
	assert_output - <<'EOF'
[{"d":"1.5","s":"é","x":"0.1"},null,2]
[null,1,2]
EOF
	run txlog optimize t
	assert_success
	run sh -c "txlog files t | jq -c '[.partitionValues, .dataChange]'"
	assert_output '[{"d":"1.5","s":"é","x":"0.1"},false]'
	run sh -c "txlog cat t | jq -c .id | paste -sd,"
	assert_output '1,2'
}

@test "stats prints a table on a terminal" {
	mk
	run script -qec 'txlog stats t' /dev/null
	assert_success
	assert_line --index 0 --regexp '^PARTITION +FILES +BYTES +RAW +RECORDS +SMALL'
	assert_line --index 1 --regexp '^day=a +3 +[0-9]+B +78B +3 +3'
	assert_line --index 3 --regexp '^total +6 '
}

@test "stats says the records of a file without statistics are not known" {
	mk
	jq -c 'if .add then .add |= del(.stats)
		elif .commitInfo then .commitInfo |= del(.["idem.xxh3_128"])
		else . end' t/_delta_log/00000000000000000001.json > c.json
	mv c.json t/_delta_log/00000000000000000001.json
	run sh -c "txlog stats t | tail -n 1 | jq -c '[.records, .files_without_stats]'"
	assert_output '[4,2]'
	run script -qec 'txlog stats t' /dev/null
	assert_success
	assert_line --index 3 --regexp '^total +6 +[0-9]+B +[0-9]+B +4\+\? +6'
}

# ---- progress ----

@test "optimize and verify are quiet off a terminal and show progress on one" {
	mk
	run txlog verify t --deep
	assert_output ''
	run script -qec 'txlog verify t' /dev/null
	assert_output --regexp 'txlog: [0-9]+ records, 0.0 MB'
	run script -qec 'txlog optimize t' /dev/null
	assert_output --regexp 'txlog: [0-9]+ records, 0.0 MB'
	run txlog optimize t
	assert_output 'txlog: t: optimize: no partition has two small files; nothing to compact, no commit'
}

@test "optimize names the versions that added the files it compacts, also those a checkpoint gave" {
	txlog init t --checkpoint-interval 4
	for i in 1 2 3 4 5; do echo "{\"id\":$i}" | txlog append t; done
	cp -r t u
	# the checkpoint's adds carry its version, 4: it said 4 to 5
	run sh -c 'txlog optimize t --stats 2>&1 | jq -c .versions_compacted'
	assert_output '[1,5]'
	# with the commits before the checkpoint cleaned up, the first is
	# not known: said so, not taken for the checkpoint's
	rm u/_delta_log/0000000000000000000[0-2].json
	run txlog optimize u
	assert_success
	assert_output --regexp '^txlog: u: optimize: version 6 removes 5 files \([0-9]+ bytes\) of versions up to 5 and adds 1 '
}

@test "optimize and vacuum end with one summary line, or the same as JSON with --stats" {
	mk
	run txlog optimize t --stats
	assert_success
	run jq -c '[.version, .files_removed, .files_added, .records, .versions_compacted, (.bytes_removed > 0), (.bytes_added > 0)]' <<<"$output"
	assert_output '[4,6,2,6,[1,3],true,true]'
	run txlog optimize t
	assert_success
	assert_output 'txlog: t: optimize: no partition has two small files; nothing to compact, no commit'
	run txlog vacuum t
	assert_success
	assert_output 'txlog: t: vacuum: deleted 0 files (0 bytes), added none, kept 0 too young; no version lost a file'
	sleep 0.01
	run txlog vacuum t --retain 0s --force --stats
	run jq -c '[.files_deleted, .versions_unreadable_below, .dry_run]' <<<"$output"
	assert_output '[6,4,false]'
}
