// Package tests holds the library's black-box suites, which use only its
// public API: the reference's golden images read and written byte for byte,
// crafted and corrupted metadata (library and CLI), fuzzing of Open and
// replay, and the layering rule. Suites that drive failpoints inside the log
// writer (crash_test.go, process_test.go) stay beside the code in the root
// package, as they need its unexported hooks.
package tests
