#include "textflag.h"

// func cpuid(eax, ecx uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eax+0(FP), AX
	MOVL ecx+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// Each loop touches every 64-byte line address in [start, end) (start is
// line-aligned), then fences with SFENCE.

// func clwbLines(start, end uintptr)
TEXT ·clwbLines(SB), NOSPLIT, $0-16
	MOVQ start+0(FP), AX
	MOVQ end+8(FP), BX
clwb_loop:
	CMPQ AX, BX
	JAE  clwb_done
	CLWB (AX)
	ADDQ $64, AX
	JMP  clwb_loop
clwb_done:
	SFENCE
	RET

// func clflushoptLines(start, end uintptr)
TEXT ·clflushoptLines(SB), NOSPLIT, $0-16
	MOVQ start+0(FP), AX
	MOVQ end+8(FP), BX
opt_loop:
	CMPQ AX, BX
	JAE  opt_done
	CLFLUSHOPT (AX)
	ADDQ $64, AX
	JMP  opt_loop
opt_done:
	SFENCE
	RET

// func clflushLines(start, end uintptr)
TEXT ·clflushLines(SB), NOSPLIT, $0-16
	MOVQ start+0(FP), AX
	MOVQ end+8(FP), BX
cf_loop:
	CMPQ AX, BX
	JAE  cf_done
	CLFLUSH (AX)
	ADDQ $64, AX
	JMP  cf_loop
cf_done:
	SFENCE
	RET

// func sfence()
TEXT ·sfence(SB), NOSPLIT, $0-0
	SFENCE
	RET
