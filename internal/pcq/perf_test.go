package pcq

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func BenchmarkQueue1M(b *testing.B) {
	const nb, bs = 32, 1 << 20
	f, _ := os.CreateTemp("/dev/shm", "pcqb")
	defer os.Remove(f.Name())
	size := int(ProducerFileSize(nb, bs)) + ConsumerFileSize
	f.Truncate(int64(size))
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	p, c := m[:ProducerFileSize(nb, bs)], m[ProducerFileSize(nb, bs):]
	FormatProducer(p, nb, bs)
	FormatConsumer(c)
	qp, _ := Open(p, c, Options{})
	qc, _ := Open(p, c, Options{})
	msg := make([]byte, qp.PayloadSize())
	b.SetBytes(bs)
	done := make(chan bool)
	go func() {
		buf := make([]byte, qc.PayloadSize())
		for range b.N {
			if _, err := qc.Get(buf, func() bool { return false }); err != nil {
				panic(err)
			}
		}
		done <- true
	}()
	for range b.N {
		qp.Put(msg, func() bool { return false })
	}
	<-done
}
