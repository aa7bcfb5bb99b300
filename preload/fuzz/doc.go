// Package fuzz tests the preload library's grant reply parser (grant_parse
// in preload/grant.c, C) against the Go side of the protocol
// (internal/control/grant.go): the C source is compiled into this package with cgo,
// and the fuzz tests feed it random replies, which must never crash it and
// must be accepted exactly when control.DecodeGrantReply accepts them (less
// the replies the C client cannot map), with the same fields, and Go-encoded
// replies, which must come back as they were encoded.
//
//	go test ./preload/fuzz                          # the seeds and random cases
//	go test ./preload/fuzz -fuzz FuzzGrantReply     # fuzz raw replies
//	go test ./preload/fuzz -fuzz FuzzGrantRoundTrip # fuzz encoded replies
//
// It is a test package only: nothing imports it, and without cgo
// (CGO_ENABLED=0) it is this file alone, so the programs' static build does
// not see it.
package fuzz
