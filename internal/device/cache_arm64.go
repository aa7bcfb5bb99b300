package device

// lineSize is the smallest data cache line (CTR_EL0.DminLine); stepping by it
// touches every line of a range.
var lineSize = ctrDminLine()

func readCTR() uint64
func cleanLines(start, end, step uintptr)      // DC CVAC per line, then DSB SY
func cleanInvalLines(start, end, step uintptr) // DC CIVAC per line, then DSB SY
func dsb()

func ctrDminLine() uintptr {
	if ctr := readCTR(); ctr != 0 {
		return 4 << ((ctr >> 16) & 0xf)
	}
	return 64
}

func span(p, n uintptr) (uintptr, uintptr) { return p &^ (lineSize - 1), p + n }

func flushRange(p, n uintptr)      { s, e := span(p, n); cleanLines(s, e, lineSize) }
func invalidateRange(p, n uintptr) { s, e := span(p, n); cleanInvalLines(s, e, lineSize) }
func hardFlushRange(p, n uintptr)  { dsb(); invalidateRange(p, n) }
func cacheOps() string             { return "flush DC CVAC+DSB, invalidate DC CIVAC+DSB" }
