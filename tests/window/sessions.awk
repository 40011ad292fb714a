# Brute-force model of window(1) --session for the property test: records
# "t k v" (integer seconds, a key, an integer value), in arrival order.
# For each record it recomputes the watermark from scratch (the newest
# earlier event time less the delay); a record whose own [t, t+gap) is
# past the watermark by the lateness is too late; else it joins every
# session of its key still kept (end + lateness above the watermark) that
# [t, t+gap) overlaps, merging them, repeatedly, until none is left.
# It prints the sessions that survive, "key start end count sum min max
# first last", sorted, and the number of too-late records as "too_late N".
# first and last are of w, which is v but null where v is even: the
# first and last non-null w to arrive (merged sessions got their
# records interleaved, so it is the arrival that decides), or null.
# Variables: gap lateness delay (seconds).
{ t[NR] = $1; k[NR] = $2; v[NR] = $3 }
END {
	tl = 0; ns = 0
	for (i = 1; i <= NR; i++) {
		have = 0
		for (j = 1; j < i; j++)
			if (!have || t[j] > mx) { mx = t[j]; have = 1 }
		w = mx - delay
		s = t[i]; e = t[i] + gap
		if (have && w >= e + lateness) { tl++; continue }
		c = 1; sm = v[i]; mn = v[i]; mxv = v[i]
		fa = la = (v[i] % 2 != 0) ? i : 0
		do {
			merged = 0
			for (x = 1; x <= ns; x++) {
				if (!live[x] || key[x] != k[i]) continue
				if (have && w >= en[x] + lateness) continue
				if (!(st[x] < e && s < en[x])) continue
				if (st[x] < s) s = st[x]
				if (en[x] > e) e = en[x]
				c += cn[x]; sm += su[x]
				if (lo[x] < mn) mn = lo[x]
				if (hi[x] > mxv) mxv = hi[x]
				if (fs[x] && (!fa || fs[x] < fa)) fa = fs[x]
				if (ls[x] && (!la || ls[x] > la)) la = ls[x]
				live[x] = 0; merged = 1
			}
		} while (merged)
		ns++; live[ns] = 1; key[ns] = k[i]; st[ns] = s; en[ns] = e
		cn[ns] = c; su[ns] = sm; lo[ns] = mn; hi[ns] = mxv
		fs[ns] = fa; ls[ns] = la
	}
	for (x = 1; x <= ns; x++)
		if (live[x])
			printf "%s %d %d %d %d %d %d %s %s\n", key[x], st[x], en[x], cn[x], su[x], lo[x], hi[x],
				fs[x] ? v[fs[x]] : "null", ls[x] ? v[ls[x]] : "null" | "sort"
	close("sort")
	print "too_late " tl
}
