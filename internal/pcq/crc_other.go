//go:build !amd64

package pcq

const wideFold = false

func fold(reg uint32, p []byte, state *[foldBlock]byte) { panic("no wide fold here") }

func foldCopy(reg uint32, dst, src []byte, state *[foldBlock]byte) { panic("no wide fold here") }

func foldCopyNT(reg uint32, dst, src []byte, state *[foldBlock]byte) { panic("no wide fold here") }
