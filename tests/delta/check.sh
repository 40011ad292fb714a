#!/bin/sh
# check.sh TABLE...: check a Delta table's log against PROTOCOL.md's
# requirements, independently of txlog (jq only).  Prints one line per
# violation, "TABLE: what", and exits 1 if there was one.
#
# Checked (the protocol sentence in brackets):
#   commits   every line one JSON object with one action; version 0 has
#             protocol and metaData ["The first version of a table must
#             contain a metaData action"]; at most one protocol and one
#             metaData per commit, no path added twice ["A single log
#             entry MUST NOT include more than one action that
#             reconciles with each other"]; versions contiguous
#   protocol  readerFeatures exactly when minReaderVersion is 3,
#             writerFeatures exactly when minWriterVersion is 7, reader 3
#             only with writer 7, every reader feature also a writer
#             feature ["It is not allowed to list a feature only in
#             readerFeatures but not in writerFeatures"]
#   features  timestamp_ntz columns need timestampNtz, delta.typeChanges
#             needs typeWidening, domainMetadata actions need
#             domainMetadata, UUID-named checkpoints need v2Checkpoint
#   metaData  id, format.provider, a parseable schemaString whose column
#             names are unique regardless of case, partitionColumns
#             among the schema's top-level columns, configuration values
#             strings
#   add       path, size, modificationTime, dataChange; partitionValues
#             with exactly the partition columns, each a string or null,
#             never "" ["An empty string for any type translates to a
#             null partition value"]; stats JSON with numRecords, and a
#             nested object (not a number) as the nullCount of a struct
#             column ["Per-column statistics ... mirroring the schema"]
#   remove    path, dataChange
#   checkpoint  first action checkpointMetadata with the name's version;
#             no tags on its removes; its domainMetadata the commits'
#             live domains; _last_checkpoint's version the version of the
#             checkpoint it names
set -u
status=0

say() {
	echo "$1: $2"
	status=1
}

check_table() {
	t=$1
	log=$t/_delta_log
	[ -d "$log" ] || { say "$t" "no _delta_log"; return; }
	# all commits, in order, as one stream: {v, i, a} per action line
	commits=$(cd "$log" && ls | grep -E '^[0-9]{20}\.json$' | sort)
	[ -n "$commits" ] || { say "$t" "no commits"; return; }
	first=$(echo "$commits" | head -1)
	prev=$(echo "$commits" | tail -1 | sed 's/^0*\([0-9]\)/\1/; s/\.json$//')
	# Commits cleaned up before the first one kept: the state starts from
	# the newest checkpoint (at the version before the first kept commit
	# or later), read as that version's actions, and the commits after
	# it ("the checkpoint ... and the commits after it" reconstruct the
	# table).
	base= cv=-1
	fv=$(echo "$first" | sed 's/^0*\([0-9]\)/\1/; s/\.json$//')
	if [ "$fv" -gt 0 ]; then
		for c in $(cd "$log" && ls | grep -E '^[0-9]{20}\.checkpoint\..*\.json$' | sort); do
			v=$(echo "$c" | sed 's/^0*\([0-9]\)/\1/; s/\.checkpoint.*//')
			[ "$v" -ge $((fv - 1)) ] && [ "$v" -le "$prev" ] && base=$c cv=$v
		done
		[ -n "$base" ] || { say "$t" "commits start at $fv with no checkpoint to start from"; return; }
		commits=$(for c in $commits; do
			v=$(echo "$c" | sed 's/^0*\([0-9]\)/\1/; s/\.json$//')
			[ "$v" -gt "$cv" ] && echo "$c"
		done)
	fi
	# one jq over the base checkpoint and every commit: {v, a} per action line
	out=$(cd "$log" && { [ -z "$base" ] || jq -c --argjson v "$cv" '{v: $v, a: .} | select(.a.checkpointMetadata | not)' "$base"
		[ -z "$commits" ] || jq -c '{v: (input_filename | .[0:20] | tonumber), a: .}' $commits; } |
	jq -rs --arg first "$first" '
	([.[].v] | unique) as $vs |
	($vs | to_entries[] | select(.key > 0 and .value != $vs[.key - 1] + 1) |
	 "version \($vs[.key - 1] + 1) missing"),
	def feats(p; m): (p[m] // []);
	def fields: (.fields // []);
	def walkt: if type == "object" then
		if .type == "struct" then (.fields[] | (.metadata, (.type | walkt)))
		elif .type == "array" then (.elementType | walkt)
		elif .type == "map" then (.keyType | walkt), (.valueType | walkt)
		else empty end
		elif type == "string" then . else empty end;
	def types: [walkt | strings];
	def metas: [walkt | objects];
	def names_ok: [.. | objects | select(.type == "struct") |
		[.fields[].name | ascii_downcase] | (length == (unique | length))] | all;
	. as $all |
	( $all[] | .a | select((keys | length) != 1) |
	  "an action line with \(keys | length) members" ),
	( group_by(.v)[] | . as $c | $c[0].v as $v |
	  ([$c[] | select(.a.protocol)] | length) as $np |
	  ([$c[] | select(.a.metaData)] | length) as $nm |
	  (if $np > 1 then "version \($v): \($np) protocol actions" else empty end),
	  (if $nm > 1 then "version \($v): \($nm) metaData actions" else empty end),
	  ([$c[] | .a.add.path // empty] | group_by(.)[] | select(length > 1) |
	   "version \($v): path \(.[0]) added twice"),
	  (if ($first | test("^0{20}")) and $v == 0 and ($np == 0 or $nm == 0)
	   then "version 0 lacks protocol or metaData" else empty end) ),
	# the state, replayed
	( (reduce ($all[] | .a) as $a ({};
		if $a.protocol then .p = $a.protocol
		elif $a.metaData then .m = $a.metaData
		elif $a.domainMetadata then
			(if $a.domainMetadata.removed then del(.d[$a.domainMetadata.domain])
			 else .d[$a.domainMetadata.domain] = $a.domainMetadata end) | .dm = true
		else . end)) as $s |
	  ($s.p // {}) as $p | ($s.m // {}) as $m |
	  (($m.schemaString // "null") | try fromjson catch null) as $schema |
	  (if $p.minReaderVersion == 3 and ($p | has("readerFeatures") | not) then "readerFeatures missing at reader version 3" else empty end),
	  (if $p.minReaderVersion != 3 and ($p | has("readerFeatures")) then "readerFeatures below reader version 3" else empty end),
	  (if $p.minWriterVersion == 7 and ($p | has("writerFeatures") | not) then "writerFeatures missing at writer version 7" else empty end),
	  (if $p.minWriterVersion != 7 and ($p | has("writerFeatures")) then "writerFeatures below writer version 7" else empty end),
	  (if $p.minReaderVersion == 3 and $p.minWriterVersion != 7 then "reader version 3 without writer version 7" else empty end),
	  (feats($p; "readerFeatures")[] as $f | select(feats($p; "writerFeatures") | index($f) | not) |
	   "reader feature \($f) not among the writer features"),
	  (if $schema == null then "metaData: no parseable schemaString" else
	    (if ($schema | names_ok) then empty else "column names not unique regardless of case" end),
	    (if ($schema | types | index("timestamp_ntz")) and ($p.minWriterVersion == 7) and
	        (feats($p; "writerFeatures") | index("timestampNtz") | not)
	     then "a timestamp_ntz column without the timestampNtz feature" else empty end),
	    (if ($schema | metas | map(has("delta.typeChanges")) | any) and ($p.minWriterVersion == 7) and
	        (feats($p; "writerFeatures") | index("typeWidening") | not)
	     then "delta.typeChanges without the typeWidening feature" else empty end),
	    (($m.partitionColumns // [])[] as $pc | select([$schema.fields[].name] | index($pc) | not) |
	     "partition column \($pc) not in the schema")
	  end),
	  (if ($m.id | type) != "string" then "metaData without id" else empty end),
	  (if ($m.format.provider | type) != "string" then "metaData without format.provider" else empty end),
	  (($m.configuration // {}) | to_entries[] | select(.value | type != "string") |
	   "configuration \(.key) is not a string"),
	  (if $s.dm and ($p.minWriterVersion == 7) and (feats($p; "writerFeatures") | index("domainMetadata") | not)
	   then "domainMetadata actions without the domainMetadata feature" else empty end),
	  # every add of every commit
	  ( [$all[] | .a.add // empty][] as $f |
	    (if ($f.path | type) != "string" then "add without path" else empty end),
	    (if ($f.size | type) != "number" or ($f.modificationTime | type) != "number" or
	        ($f.dataChange | type) != "boolean" then "add \($f.path): size, modificationTime or dataChange missing" else empty end),
	    (if (($f.partitionValues // {}) | keys) != (($m.partitionColumns // []) | sort)
	     then "add \($f.path): partitionValues keys are not the partition columns" else empty end),
	    (($f.partitionValues // {}) | to_entries[] |
	     select((.value | type) != "string" and .value != null) |
	     "add \($f.path): partition value \(.key) is neither a string nor null"),
	    (($f.partitionValues // {}) | to_entries[] | select(.value == "") |
	     "add \($f.path): partition value \(.key) is \"\" (null is written null)"),
	    (if $f.stats then (($f.stats | try fromjson catch null) as $st |
	      if $st == null then "add \($f.path): stats is not JSON"
	      elif ($st.numRecords | type) != "number" then "add \($f.path): stats without numRecords"
	      elif $schema == null then empty
	      else ($schema.fields[] | select(.type | type == "object" and .type == "struct") | .name) as $sc |
	        select($st.nullCount | has($sc)) | select(($st.nullCount[$sc] | type) != "object") |
	        "add \($f.path): nullCount of struct column \($sc) is not a nested object"
	      end) else empty end) ),
	  ( [$all[] | .a.remove // empty][] | select((.path | type) != "string" or (.dataChange | type) != "boolean") |
	    "remove without path or dataChange" ),
	  ( "DOMAINS " + (($s.d // {}) | keys | join(",")) ),
	  ( "V2 " + (if feats($p; "writerFeatures") | index("v2Checkpoint") then "yes" else "no" end) )
	)') || { say "$t" "jq failed on the log (a commit that is not NDJSON of objects?)"; return; }
	domains=$(echo "$out" | sed -n 's/^DOMAINS //p')
	v2=$(echo "$out" | sed -n 's/^V2 //p')
	echo "$out" | grep -v -e '^DOMAINS ' -e '^V2 ' | while IFS= read -r line; do
		[ -n "$line" ] && echo "$t: $line"
	done | grep . && status=1
	# checkpoints
	for cp in $(cd "$log" && ls | grep -E '^[0-9]{20}\.checkpoint\..*\.json$'); do
		cv=$(echo "$cp" | sed 's/^0*\([0-9]\)/\1/; s/\.checkpoint.*//')
		[ "$v2" = yes ] || say "$t" "$cp: a UUID-named checkpoint without the v2Checkpoint feature"
		head -1 "$log/$cp" | jq -e --argjson v "$cv" '.checkpointMetadata.version == $v' > /dev/null ||
			say "$t" "$cp: first action is not checkpointMetadata of version $cv"
		jq -e -s 'all(.[]; (.remove // {}) | has("tags") | not)' "$log/$cp" > /dev/null ||
			say "$t" "$cp: a remove with tags"
		# only the newest checkpoint is compared with the newest domains
		last_cp=$cp
	done
	if [ -n "${last_cp:-}" ] && [ "$(echo "$last_cp" | sed 's/^0*\([0-9]\)/\1/; s/\.checkpoint.*//')" -eq "$prev" ]; then
		got=$(jq -r -s '[.[] | .domainMetadata.domain // empty] | sort | join(",")' "$log/$last_cp")
		[ "$got" = "$domains" ] || say "$t" "$last_cp: domainMetadata $got, the commits have $domains"
	fi
	last_cp=
	if [ -f "$log/_last_checkpoint" ]; then
		lv=$(jq -r .version "$log/_last_checkpoint")
		ln=$(jq -r '.v2Checkpoint.path // empty' "$log/_last_checkpoint")
		if [ -n "$ln" ]; then
			nv=$(echo "$ln" | sed 's/^0*\([0-9]\)/\1/; s/\.checkpoint.*//')
			[ "$nv" = "$lv" ] || say "$t" "_last_checkpoint says $lv but names $ln"
			[ -f "$log/$ln" ] || say "$t" "_last_checkpoint names $ln, which is missing"
		fi
	fi
}

for t in "$@"; do
	check_table "$t"
done
exit $status
