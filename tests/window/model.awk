# Brute-force model of window(1) for the property test: records "t v"
# (integer seconds, integer values), in arrival order.  For each record it
# recomputes the watermark from scratch (the newest earlier event time
# less the delay), lists every window of the record by enumeration, and
# keeps a record in a window unless the watermark had passed that
# window's end plus the lateness.  It prints, per window, the aggregates
# over the records it kept ("start count sum min max"), sorted by start,
# and the number of too-late records as "too_late N".
# Variables: size step lateness delay (seconds; step = size for tumbling).
{ t[NR] = $1; v[NR] = $2 }
END {
	tl = 0
	for (i = 1; i <= NR; i++) {
		have = 0
		for (j = 1; j < i; j++)
			if (!have || t[j] > mx) { mx = t[j]; have = 1 }
		w = mx - delay
		kept = 0
		# every start s = k*step with s <= t < s+size, by enumeration
		for (s = t[i] - size - step; s <= t[i]; s++) {
			if (s % step != 0 || s > t[i] || s + size <= t[i]) continue
			if (have && w >= s + size + lateness) continue
			kept = 1
			c[s]++; sm[s] += v[i]
			if (!(s in mn) || v[i] < mn[s]) mn[s] = v[i]
			if (!(s in mxv) || v[i] > mxv[s]) mxv[s] = v[i]
		}
		if (!kept) tl++
	}
	for (s in c) printf "%d %d %d %d %d\n", s, c[s], sm[s], mn[s], mxv[s] | "sort -n"
	close("sort -n")
	print "too_late " tl
}
