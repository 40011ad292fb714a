# txlog maintenance (sourced by tests/bench/run.sh): optimize against a
# zstd round trip over the same bytes, cat before and after optimize, and
# the share of files a point query reads before and after z-ordering.
#
# Sizes: the data file's N records (BENCH_N), appended in
# MAINT_COMMITS commits (default 100) to a table partitioned by a bucket
# column of MAINT_BUCKETS values (default 100): 10,000 small files for
# the default 1M records.  For a quick look:
#   BENCH_N=100000 MAINT_COMMITS=20 MAINT_BUCKETS=20 sh tests/bench/run.sh
# The machine may be shared: the ratios compare commands timed in the
# same run, one after the other, so they are fair-ish, not exact.

if have txlog; then
	section txlog-maint
	TX=$IDEM_BIN/txlog
	MT=$BENCH_DIR/txlog-maint
	MC=${MAINT_COMMITS:-100}
	MB=${MAINT_BUCKETS:-100}
	rm -rf "$MT"
	mkdir -p "$MT/chunks"
	# A bucket column to partition by, and the customer id as a
	# top-level column (statistics are kept for top-level columns).
	awk -v b="$MB" '{ sub(/^\{/, "{\"bucket\":" (NR % b) ","); print }' "$DATA" |
		sed 's/"customer":{"id":\([0-9]*\)/"cust":\1,&/' >"$MT/data.ndjson"
	split -n l/"$MC" -d -a 4 "$MT/data.ndjson" "$MT/chunks/c"
	"$TX" init "$MT/small" --infer --partition-by bucket || die "txlog init failed"
	for c in "$MT"/chunks/c*; do
		"$TX" append "$MT/small" --merge-schema "$c" || die "txlog append failed"
	done
	nfiles=$("$TX" files "$MT/small" | wc -l | tr -d ' ')
	printf 'bench: %s records in %s files (%s commits x %s partitions)\n' "$N" "$nfiles" "$MC" "$MB"

	# 1. optimize against zstd -dc | zstd over the same data files.  Each
	#    optimize run gets a fresh copy of the table (not timed).
	bench zstd-roundtrip sh -c 'find "$1" -name "*.zst" -exec zstd -dcq {} + | zstd -q -3 -c' \
		zstd-roundtrip "$MT/small"
	best=
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		rm -rf "$MT/opt"
		cp -r "$MT/small" "$MT/opt"
		sync
		t0=$(date +%s.%N)
		"$TX" optimize "$MT/opt" || die "txlog optimize failed"
		t1=$(date +%s.%N)
		d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		best=$(awk -v a="$best" -v d="$d" 'BEGIN { print (a == "" || d < a) ? d : a }')
		i=$((i + 1))
	done
	mbs=$(awk -v b="$DATA_BYTES" -v s="$best" 'BEGIN { printf "%.1f", b / 1e6 / s }')
	printf '%-24s %10.3f %10s   (%s files into %s)\n' txlog-optimize "$best" "$mbs" \
		"$nfiles" "$("$TX" files "$MT/opt" | wc -l | tr -d ' ')"
	record --arg name txlog-optimize --argjson seconds "$best" --argjson mb_per_s "$mbs" \
		--argjson files "$nfiles" '{kind:"time", name:$name, seconds:$seconds, mb_per_s:$mb_per_s, files:$files}'
	# A fast wrong answer is no result: the same records, as a multiset.
	a=$("$TX" cat "$MT/small" | sort | cksum) b=$("$TX" cat "$MT/opt" | sort | cksum)
	[ "$a" = "$b" ] || printf 'bench: WARNING optimize changed the records\n'

	# 2. a full cat before and after
	bench txlog-cat-small-files "$TX" cat "$MT/small"
	bench txlog-cat-optimized "$TX" cat "$MT/opt"

	# 3. z-order: the same records in one partition-less table, compacted
	#    to files of 4 MiB once in append order and once z-ordered by two
	#    random columns; then the share of files a point query on either
	#    column reads (cat --where ... --stats: files and files_skipped).
	"$TX" init "$MT/flat" --infer || die "txlog init failed"
	for c in "$MT"/chunks/c*; do
		"$TX" append "$MT/flat" --merge-schema "$c" || die "txlog append failed"
	done
	cp -r "$MT/flat" "$MT/zflat"
	"$TX" optimize "$MT/flat" --target-size 4M || die "txlog optimize failed"
	t0=$(date +%s.%N)
	"$TX" optimize "$MT/zflat" --target-size 4M --zorder-by cust,amount || die "txlog optimize --zorder-by failed"
	t1=$(date +%s.%N)
	dz=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	printf '%-24s %10.3f\n' txlog-zorder "$dz"
	cust=$(sed -n '1000p' "$MT/data.ndjson" | jq .cust)
	amount=$(sed -n '1000p' "$MT/data.ndjson" | jq .amount)
	frac() { # TABLE PRED: share of files read
		"$TX" cat "$1" --where "$2" --stats 2>&1 >/dev/null |
			jq -r '"\((.files - .files_skipped) / .files) \(.files - .files_skipped) \(.files)"'
	}
	for pred in "cust = $cust" "amount = $amount"; do
		set -- $(frac "$MT/flat" "$pred")
		before=$1 rb=$2 nb=$3
		set -- $(frac "$MT/zflat" "$pred")
		after=$1 ra=$2 na=$3
		printf '%-24s read %s of %s files in append order, %s of %s z-ordered\n' \
			"where $pred" "$rb" "$nb" "$ra" "$na"
		record --arg name "zorder fraction: $pred" --argjson before "$before" \
			--argjson after "$after" --argjson files_before "$nb" --argjson files_after "$na" \
			'{kind:"fraction", name:$name, before:$before, after:$after, files_before:$files_before, files_after:$files_after}'
	done

	printf '\n%-32s %8s\n' ratio "faster"
	ratio "optimize vs zstd -dc|zstd" txlog-optimize zstd-roundtrip 0.5
	ratio "cat after optimize vs before" txlog-cat-optimized txlog-cat-small-files 5
fi
