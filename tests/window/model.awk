# Brute-force model of window(1) for the property test: records "t v"
# (integer seconds, integer values), in arrival order.  For each record it
# recomputes the watermark from scratch (the newest earlier event time
# less the delay), lists every window of the record by enumeration, and
# keeps a record in a window unless the watermark had passed that
# window's end plus the lateness.  It prints, per window, the aggregates
# over the records it kept ("start count sum min max"), sorted by start,
# the number of too-late records as "too_late N", and the number of
# records that fall in no window at all (step > size leaves gaps between
# windows) as "gap N"; a gap record is not too late.  A record kept in
# some of its windows and too late for others is "partly_late".
# Variables: size step lateness delay (seconds; step = size for tumbling).
{ t[NR] = $1; v[NR] = $2 }
END {
	tl = 0; gap = 0; pl = 0
	for (i = 1; i <= NR; i++) {
		have = 0
		for (j = 1; j < i; j++)
			if (!have || t[j] > mx) { mx = t[j]; have = 1 }
		w = mx - delay
		kept = 0; any = 0; lost = 0
		# every start s = k*step with s <= t < s+size, by enumeration
		for (s = t[i] - size - step; s <= t[i]; s++) {
			if (s % step != 0 || s > t[i] || s + size <= t[i]) continue
			any = 1
			if (have && w >= s + size + lateness) { lost = 1; continue }
			kept = 1
			c[s]++; sm[s] += v[i]
			if (!(s in mn) || v[i] < mn[s]) mn[s] = v[i]
			if (!(s in mxv) || v[i] > mxv[s]) mxv[s] = v[i]
		}
		if (!any) gap++
		else if (!kept) tl++
		else if (lost) pl++
	}
	for (s in c) printf "%d %d %d %d %d\n", s, c[s], sm[s], mn[s], mxv[s] | "sort -n"
	close("sort -n")
	print "too_late " tl
	print "gap " gap
	print "partly_late " pl
}
