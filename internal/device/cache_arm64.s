#include "textflag.h"

// func readCTR() uint64
TEXT ·readCTR(SB), NOSPLIT, $0-8
	WORD $0xd53b0020 // MRS X0, CTR_EL0 (Linux allows or emulates EL0 access)
	MOVD R0, ret+0(FP)
	RET

// func cleanLines(start, end, step uintptr)
TEXT ·cleanLines(SB), NOSPLIT, $0-24
	MOVD start+0(FP), R0
	MOVD end+8(FP), R1
	MOVD step+16(FP), R2
clean_loop:
	CMP  R1, R0
	BHS  clean_done
	WORD $0xd50b7a20 // DC CVAC, X0
	ADD  R2, R0
	B    clean_loop
clean_done:
	WORD $0xd5033f9f // DSB SY
	RET

// func cleanInvalLines(start, end, step uintptr)
TEXT ·cleanInvalLines(SB), NOSPLIT, $0-24
	MOVD start+0(FP), R0
	MOVD end+8(FP), R1
	MOVD step+16(FP), R2
civac_loop:
	CMP  R1, R0
	BHS  civac_done
	WORD $0xd50b7e20 // DC CIVAC, X0
	ADD  R2, R0
	B    civac_loop
civac_done:
	WORD $0xd5033f9f // DSB SY
	RET

// func dsb()
TEXT ·dsb(SB), NOSPLIT, $0-0
	WORD $0xd5033f9f // DSB SY
	RET
