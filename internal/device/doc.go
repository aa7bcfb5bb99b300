// Package device owns access to the memory that holds a famfs file system: a
// devdax character device (/dev/daxX.Y), a pmem block device, or a regular file
// standing in for one (sparse is fine; /dev/shm or a tmpfs mounted with
// huge=always is the usual choice).
//
// It finds a device's size and mapping alignment (sysfs for devices, stat for
// files), maps 2 MiB-aligned ranges MAP_SHARED, maps runs of device bytes back
// to back into one contiguous virtual range (what File.Map builds on), takes
// the host-local log lock (flock), and flushes or invalidates CPU cache lines
// for a byte range (CLWB/CLFLUSHOPT/CLFLUSH + SFENCE on amd64, DC CVAC/CIVAC +
// DSB on arm64, nothing elsewhere).
//
// Memory reached through a mapping can fault (a regular-file device truncated
// under us raises SIGBUS). Every copy this package makes runs with
// debug.SetPanicOnFault and turns a fault into an error wrapping ErrFault
// instead of killing the program.
package device
