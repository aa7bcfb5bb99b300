#include "textflag.h"

// x^(2048+32) mod P and x^(2048-32) mod P, bit-reflected and shifted left
// one: the constants for folding a 128-bit lane forward by 2048 bits (256
// bytes; crc_test.go derives them).
DATA fold2048<>+0(SB)/8, $0x11542778a
DATA fold2048<>+8(SB)/8, $0x1322d1430
GLOBL fold2048<>(SB), RODATA|NOPTR, $16

// The folding state is sixteen 128-bit lanes in Y1-Y8; Y0 holds the two
// constants in both halves. SI walks the source, DX the destination, CX
// counts the bytes left, DI points at the state to save.

// LOAD8 loads the first 256 source bytes into the state.
#define LOAD8 \
	VMOVDQU 0(SI), Y1; VMOVDQU 32(SI), Y2; VMOVDQU 64(SI), Y3; VMOVDQU 96(SI), Y4; \
	VMOVDQU 128(SI), Y5; VMOVDQU 160(SI), Y6; VMOVDQU 192(SI), Y7; VMOVDQU 224(SI), Y8

// STORE8 stores the state's first 256 bytes (the source's) to the destination.
#define STORE8(STORE) \
	STORE Y1, 0(DX); STORE Y2, 32(DX); STORE Y3, 64(DX); STORE Y4, 96(DX); \
	STORE Y5, 128(DX); STORE Y6, 160(DX); STORE Y7, 192(DX); STORE Y8, 224(DX)

// START adds the CRC register (AX) into the first lane, steps past the first
// block and loads the constants.
#define START \
	VMOVD AX, X0; VPXOR Y0, Y1, Y1; ADDQ $256, SI; SUBQ $256, CX; \
	VBROADCASTI128 fold2048<>(SB), Y0

// PREFETCH asks for the source 1 KiB ahead (a prefetch never faults, past
// the end either): a bucket another host wrote comes from memory, and the
// multiplies then wait for it less.
#define PREFETCH \
	PREFETCHT0 1024(SI); PREFETCHT0 1088(SI); PREFETCHT0 1152(SI); PREFETCHT0 1216(SI)

// FOLD folds two lanes forward by 2048 bits and adds the 32 source bytes at
// off: acc = acc.lo * k.lo ^ acc.hi * k.hi ^ data.
#define FOLD(off, acc, tmp) \
	VPCLMULQDQ $0x00, Y0, acc, tmp; VPCLMULQDQ $0x11, Y0, acc, acc; \
	VPXOR off(SI), tmp, tmp; VPXOR tmp, acc, acc

// FOLDCOPY is FOLD that also stores the 32 source bytes at off of the
// destination, with STORE: one load feeds both.
#define FOLDCOPY(STORE, off, acc, tmp, d) \
	VMOVDQU off(SI), d; STORE d, off(DX); \
	VPCLMULQDQ $0x00, Y0, acc, tmp; VPCLMULQDQ $0x11, Y0, acc, acc; \
	VPXOR d, tmp, tmp; VPXOR tmp, acc, acc

// COPYSTEP is one 256-byte step of a fold that copies.
#define COPYSTEP(STORE) \
	FOLDCOPY(STORE, 0, Y1, Y9, Y12); FOLDCOPY(STORE, 32, Y2, Y10, Y13); \
	FOLDCOPY(STORE, 64, Y3, Y11, Y14); FOLDCOPY(STORE, 96, Y4, Y9, Y15); \
	FOLDCOPY(STORE, 128, Y5, Y10, Y12); FOLDCOPY(STORE, 160, Y6, Y11, Y13); \
	FOLDCOPY(STORE, 192, Y7, Y9, Y14); FOLDCOPY(STORE, 224, Y8, Y10, Y15)

// SAVE stores the state.
#define SAVE \
	VMOVDQU Y1, 0(DI); VMOVDQU Y2, 32(DI); VMOVDQU Y3, 64(DI); VMOVDQU Y4, 96(DI); \
	VMOVDQU Y5, 128(DI); VMOVDQU Y6, 160(DI); VMOVDQU Y7, 192(DI); VMOVDQU Y8, 224(DI)

// func cpuid7ecx() uint32
TEXT ·cpuid7ecx(SB), NOSPLIT, $0-4
	MOVL $7, AX
	MOVL $0, CX
	CPUID
	MOVL CX, ret+0(FP)
	RET

// func fold(reg uint32, p []byte, state *[256]byte)
// Each step multiplies every lane's halves by the two constants and adds the
// next 256 bytes.
TEXT ·fold(SB), NOSPLIT, $0-40
	MOVL reg+0(FP), AX
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	MOVQ state+32(FP), DI
	LOAD8
	START

loop:
	CMPQ CX, $256
	JB   done
	PREFETCH
	FOLD(0, Y1, Y9); FOLD(32, Y2, Y10); FOLD(64, Y3, Y11); FOLD(96, Y4, Y12)
	FOLD(128, Y5, Y9); FOLD(160, Y6, Y10); FOLD(192, Y7, Y11); FOLD(224, Y8, Y12)
	ADDQ $256, SI
	SUBQ $256, CX
	JMP  loop

done:
	SAVE
	VZEROUPPER
	RET

// func foldCopy(reg uint32, dst, src []byte, state *[256]byte)
// fold of src, storing each 256 bytes into dst as it goes: the loads feed
// both, so the copy's memory traffic and the multiplies overlap.
TEXT ·foldCopy(SB), NOSPLIT, $0-64
	MOVL reg+0(FP), AX
	MOVQ dst_base+8(FP), DX
	MOVQ src_base+32(FP), SI
	MOVQ src_len+40(FP), CX
	MOVQ state+56(FP), DI
	LOAD8
	STORE8(VMOVDQU)
	START
	ADDQ $256, DX

copyloop:
	CMPQ CX, $256
	JB   copydone
	PREFETCH
	COPYSTEP(VMOVDQU)
	ADDQ $256, SI
	ADDQ $256, DX
	SUBQ $256, CX
	JMP  copyloop

copydone:
	SAVE
	VZEROUPPER
	RET

// func foldCopyNT(reg uint32, dst, src []byte, state *[256]byte)
// foldCopy with non-temporal stores (dst 32-byte aligned): the copy goes to
// memory past the caches, with no read of the lines it replaces, and the
// SFENCE at the end orders it before any later store (the index that
// publishes it). Its source is the caller's message, in the cache: no
// prefetch.
TEXT ·foldCopyNT(SB), NOSPLIT, $0-64
	MOVL reg+0(FP), AX
	MOVQ dst_base+8(FP), DX
	MOVQ src_base+32(FP), SI
	MOVQ src_len+40(FP), CX
	MOVQ state+56(FP), DI
	LOAD8
	STORE8(VMOVNTDQ)
	START
	ADDQ $256, DX

ntloop:
	CMPQ CX, $256
	JB   ntdone
	COPYSTEP(VMOVNTDQ)
	ADDQ $256, SI
	ADDQ $256, DX
	SUBQ $256, CX
	JMP  ntloop

ntdone:
	SAVE
	SFENCE
	VZEROUPPER
	RET
