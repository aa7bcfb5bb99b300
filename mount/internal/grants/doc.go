// Package grants owns the grant socket: it hands file maps and device
// descriptors to programs (the C preload library; the library's OpenMounted) that prove,
// with a descriptor they opened through the mount, which file they may use,
// and keeps each grant as a lease (a hold on the file) for as long as the
// connection stays open. The wire format is in docs/protocol.md, "Grant
// protocol"; leases in docs/delete.md, "Leases".
package grants
