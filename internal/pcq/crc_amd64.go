package pcq

import "golang.org/x/sys/cpu"

// wideFold: the CPU has VPCLMULQDQ (carry-less multiplies on 256-bit
// registers, CPUID leaf 7 ECX bit 10) and AVX2 with the OS saving the YMM
// registers. hash/crc32 uses 128-bit PCLMULQDQ; sixteen 128-bit lanes folded
// at once go about three times as fast on the build machine.
var wideFold = cpu.X86.HasAVX2 && cpu.X86.HasPCLMULQDQ && cpuid7ecx()&(1<<10) != 0

// cpuid7ecx is ECX of CPUID leaf 7, subleaf 0 (x/sys/cpu reports the
// VPCLMULQDQ bit only on CPUs with AVX-512).
func cpuid7ecx() uint32

// fold folds p (a multiple of foldBlock bytes, at least two blocks) into
// state, a foldBlock-byte message whose CRC from a zero register is the CRC
// of p from register reg. Each step multiplies the eight 128-bit lanes of
// the state by x^(2048±32) mod P and adds the next 256 bytes (docs/pcq.md,
// "The CRC").
//
//go:noescape
func fold(reg uint32, p []byte, state *[foldBlock]byte)

// foldCopy is fold of src that also copies src into dst (at least as long).
//
//go:noescape
func foldCopy(reg uint32, dst, src []byte, state *[foldBlock]byte)

// foldCopyNT is foldCopy with non-temporal stores into dst, which must be
// 32-byte aligned, fenced (SFENCE) before it returns.
//
//go:noescape
func foldCopyNT(reg uint32, dst, src []byte, state *[foldBlock]byte)
