package device

// CPU features (docs/format.md, "Cache flushes"): CLFLUSHOPT is
// CPUID.7.0:EBX[23], CLWB is CPUID.7.0:EBX[24], CLFLUSH is CPUID.1:EDX[19].
var hasCLWB, hasCLFLUSHOPT, _ = detect() // every x86-64 has CLFLUSH, the fallback

func cpuid(eax, ecx uint32) (a, b, c, d uint32)

func detect() (clwb, clflushopt, clflush bool) {
	maxLeaf, _, _, _ := cpuid(0, 0)
	_, _, _, edx1 := cpuid(1, 0)
	clflush = edx1&(1<<19) != 0
	if maxLeaf >= 7 {
		_, ebx7, _, _ := cpuid(7, 0)
		clflushopt = ebx7&(1<<23) != 0
		clwb = ebx7&(1<<24) != 0
	}
	return
}

func clwbLines(start, end uintptr)
func clflushoptLines(start, end uintptr)
func clflushLines(start, end uintptr)
func sfence()

func lineSpan(p, n uintptr) (start, end uintptr) { return p &^ (CacheLine - 1), p + n }

func flushRange(p, n uintptr) {
	s, e := lineSpan(p, n)
	switch {
	case hasCLWB:
		clwbLines(s, e)
	case hasCLFLUSHOPT:
		clflushoptLines(s, e)
	default:
		clflushLines(s, e)
	}
}

func invalidateRange(p, n uintptr) {
	s, e := lineSpan(p, n)
	if hasCLFLUSHOPT {
		clflushoptLines(s, e)
	} else {
		clflushLines(s, e)
	}
}

func hardFlushRange(p, n uintptr) {
	sfence()
	invalidateRange(p, n)
}

func cacheOps() string {
	f, i := "CLFLUSH", "CLFLUSH"
	if hasCLFLUSHOPT {
		f, i = "CLFLUSHOPT", "CLFLUSHOPT"
	}
	if hasCLWB {
		f = "CLWB"
	}
	return "flush " + f + "+SFENCE, invalidate " + i + "+SFENCE"
}
