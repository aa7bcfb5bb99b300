package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

// pcq exit codes (documented in exitcodes.go).
const (
	pcqFailed    = 1 // cannot open or create the queue, or messages with wrong payloads
	pcqCoherency = 3 // a message failed its sequence or CRC check after fresh reads
)

// pcqFlags are the options of `famfs pcq` (or `pcq`).
type pcqFlags struct {
	create, producer, consumer, drain, info, noFlush, ignored bool
	bsize, nbuckets, nmessages                                uint64
	seconds, status                                           float64
	seed                                                      uint64
	uid, gid                                                  idFlag
	setperm, statusFile                                       string
	verbose                                                   int
}

func newPcqCmd(e *env, use string) *cobra.Command {
	var o pcqFlags
	o.gid.group = true
	cmd := newCommand(&cobra.Command{
		Use:   use + " [options] <queue>",
		Short: "Run the shared-memory producer/consumer queue",
		Long: `A single-producer, single-consumer message queue in two famfs files, <queue>
(a header and the buckets) and <queue>.consumer, in the reference's layout,
so that a producer and a consumer on different hosts — this implementation
or the reference's — share it byte for byte (docs/pcq.md).

  -C -b SIZE -n N [-u user] [-g group] <queue>   create the two files (master)
  -p / -c / -pc [-N n | -t secs] [-S seed] <queue>
        produce, consume, or both in one process (two threads)
  -d <queue>    consume what is queued, without waiting, then stop
  -i <queue>    show the messages waiting and both sequence numbers
  --setperm p|c|b|n <queue>   make the files writable for the producer (p),
        the consumer (c), both (b) or neither (n): 0644 or 0444

A bucket is SIZE bytes, a power of two of at least 32: the message, then a
sequence number and a CRC. With -S every message carries the same seeded
payload (the generator of creat -S), which the consumer checks. -s S prints
a status line every S seconds; -f FILE writes the run's result as one
number (messages sent plus received; the number drained; the number waiting
for -i; minus the error count on errors). -D skips the cache flushes and
invalidates (coherent memory only). The producer and consumer open the files
through the mount, so the files' permissions decide who may run which side.`,
		Args: cobra.ArbitraryArgs, // checked in the reference's order (check)
	})
	f := cmd.Flags()
	f.BoolVarP(&o.create, "create", "C", false, "create the queue (with --bsize and --nbuckets)")
	f.VarP(newSize(&o.bsize), "bsize", "b", "bucket size, a power of two (k, m, g suffixes)")
	f.VarP(newSize(&o.nbuckets), "nbuckets", "n", "number of buckets (k, m, g suffixes)")
	f.VarP(&o.uid, "uid", "u", "owner of the queue files, a name or a number (create only)")
	f.VarP(&o.gid, "gid", "g", "group of the queue files, a name or a number (create only)")
	f.BoolVarP(&o.producer, "producer", "p", false, "run the producer")
	f.BoolVarP(&o.consumer, "consumer", "c", false, "run the consumer")
	f.VarP(newSize(&o.nmessages), "nmessages", "N", "stop after this many messages (each side)")
	f.Float64VarP(&o.seconds, "time", "t", 0, "run for this many seconds")
	f.VarP(newNumber(&o.seed), "seed", "S", "seeded payload, checked by the consumer")
	f.Float64VarP(&o.status, "status", "s", 0, "print a status line every this many seconds")
	f.BoolVarP(&o.drain, "drain", "d", false, "consume what is queued without waiting, then stop")
	f.BoolVarP(&o.info, "info", "i", false, "show the messages waiting and both sequence numbers")
	f.StringVarP(&o.setperm, "setperm", "P", "", "p, c, b or n: who may write the files")
	f.BoolVarP(&o.noFlush, "dontflush", "D", false, "skip cache flushes and invalidates (coherent memory only)")
	f.StringVarP(&o.statusFile, "statusfile", "f", "", "write the run's result as one number to this file")
	f.CountVarP(&o.verbose, "verbose", "v", "more output (-vv: every message)")
	f.BoolVarP(&o.ignored, "ignored-w", "w", false, "accepted and ignored, as by the reference")
	f.MarkHidden("ignored-w")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := o.check(args); err != nil {
			return err
		}
		return runPcq(e, &o, args[0])
	}
	return cmd
}

// check validates the options in the reference's order.
func (o *pcqFlags) check(args []string) error {
	ops := o.create || o.producer || o.consumer || o.drain
	switch {
	case o.info && ops:
		return usagef("--info goes with no other operation")
	case o.create && (o.bsize == 0 || o.nbuckets == 0):
		return usagef("--create needs --bsize and --nbuckets")
	case (o.uid.set || o.gid.set) && !o.create:
		return usagef("--uid and --gid go with --create only")
	case o.drain && (o.producer || o.consumer || o.nmessages > 0 || o.seconds > 0):
		return usagef("--drain goes with no producer, consumer, --nmessages or --time")
	case o.seconds > 0 && o.nmessages > 0:
		return usagef("--time and --nmessages are mutually exclusive")
	case len(args) != 1:
		return usagef("name one queue")
	case o.setperm != "" && (ops || o.info):
		return usagef("--setperm goes with no other operation")
	case o.setperm != "" && len(o.setperm) != 1 || o.setperm != "" && !bytes.ContainsAny([]byte(o.setperm), "pcbn"):
		return usagef("--setperm takes p, c, b or n, not %q", o.setperm)
	case !ops && !o.info && o.setperm == "":
		return usagef("nothing to do: give --create, --producer, --consumer, --drain, --info or --setperm")
	case o.seed != 0:
		if err := famfs.CheckSeed(o.seed); err != nil {
			return usagef("%v", err)
		}
	}
	return nil
}

func runPcq(e *env, o *pcqFlags, name string) error {
	switch {
	case o.create:
		if err := pcqCreate(e, o, name); err != nil || !(o.producer || o.consumer) {
			return err
		}
	case o.setperm != "":
		return pcqSetperm(o, name)
	case o.info:
		return pcqInfo(e, o, name)
	case o.drain:
		return pcqDrain(e, o, name)
	}
	return pcqRun(e, o, name)
}

func pcqCreate(e *env, o *pcqFlags, name string) error {
	paths, dev, fsys, err := openMasterFor(name)
	if err != nil {
		return &ExitError{Code: pcqFailed, Err: err}
	}
	defer fsys.Close()
	p := paths[0]
	qo := famfs.QueueOptions{BucketSize: o.bsize, Buckets: o.nbuckets, Mode: 0o644 &^ umask(),
		UID: o.uid.or(os.Geteuid()), GID: o.gid.or(os.Getegid())}
	err = fsys.CreateQueue(p.rel, qo)
	notifyDaemons(dev)
	if err != nil {
		return &ExitError{Code: pcqFailed, Err: pathErr(p, err)}
	}
	if o.verbose > 0 {
		fmt.Fprintf(e.stdout, "pcq: created %s and %s%s: %d buckets of %d bytes\n", p.arg, p.arg, famfs.QueueConsumerSuffix, o.nbuckets, o.bsize)
	}
	return nil
}

func pcqSetperm(o *pcqFlags, name string) error {
	pm, cm := os.FileMode(0o444), os.FileMode(0o444)
	switch o.setperm {
	case "p":
		pm = 0o644
	case "c":
		cm = 0o644
	case "b":
		pm, cm = 0o644, 0o644
	}
	for _, x := range []struct {
		path string
		mode os.FileMode
	}{{name, pm}, {name + famfs.QueueConsumerSuffix, cm}} {
		if err := os.Chmod(x.path, x.mode); err != nil {
			return &ExitError{Code: pcqFailed, Err: unwrapPathErr(err)}
		}
	}
	return nil
}

// openedQueue is one side's queue and what holds its two files open.
type openedQueue struct {
	*famfs.Queue
	close func()
}

// openPcq opens the queue's two files through the mount (the kernel checks
// the caller may open each one so) for role.
func openPcq(o *pcqFlags, name string, role famfs.QueueRole) (*openedQueue, error) {
	pw, cw := false, false
	switch role {
	case famfs.QueueProducer:
		pw = true
	case famfs.QueueConsumer:
		cw = true
	}
	pf, p, err := famfs.OpenMounted(name, pw, famfs.OpenOptions{})
	if err != nil {
		return nil, &ExitError{Code: pcqFailed, Err: err}
	}
	cf, c, err := famfs.OpenMounted(name+famfs.QueueConsumerSuffix, cw, famfs.OpenOptions{})
	if err != nil {
		pf.Close()
		return nil, &ExitError{Code: pcqFailed, Err: err}
	}
	q, err := famfs.OpenQueue(p, c, role, famfs.QueueOpenOptions{NoFlush: o.noFlush})
	if err != nil {
		cf.Close()
		pf.Close()
		return nil, &ExitError{Code: pcqFailed, Err: err}
	}
	return &openedQueue{Queue: q, close: func() { q.Close(); cf.Close(); pf.Close() }}, nil
}

func pcqInfo(e *env, o *pcqFlags, name string) error {
	q, err := openPcq(o, name, famfs.QueueReader)
	if err != nil {
		writeStatusFile(o.statusFile, -1)
		return err
	}
	defer q.close()
	qc, err := q.Counts()
	if err != nil {
		writeStatusFile(o.statusFile, -1)
		return err
	}
	n := qc.Waiting
	fmt.Fprintf(e.stdout, "get_queue_info: queue %s contains %d messages p next_seq %d c next_seq %d\n", name, n, qc.ProducerSeq, qc.ConsumerSeq)
	if o.verbose > 0 {
		fmt.Fprintf(e.stdout, "pcq: %s: %d buckets of %d bytes (%d-byte messages)\n", name, q.Buckets(), q.BucketSize(), q.PayloadSize())
	}
	return writeStatusFile(o.statusFile, int64(n))
}

// seeded is the payload every message of a seeded run carries.
func seeded(seed uint64, n int) []byte {
	if seed == 0 {
		return nil
	}
	b := make([]byte, n)
	famfs.SeededBytes(seed, b)
	return b
}

func pcqDrain(e *env, o *pcqFlags, name string) error {
	q, err := openPcq(o, name, famfs.QueueConsumer)
	if err != nil {
		writeStatusFile(o.statusFile, -1)
		return err
	}
	defer q.close()
	want := seeded(o.seed, q.PayloadSize())
	buf := make([]byte, q.PayloadSize())
	var runErr error
	for {
		m, err := q.TryGet(buf)
		if errors.Is(err, famfs.ErrQueueEmpty) {
			break
		}
		if err != nil {
			runErr = err
			break
		}
		if want != nil && !bytes.Equal(m, want) {
			q.CountError()
		}
	}
	st := q.Stats()
	fmt.Fprintf(e.stdout, "pcq drain: nreceived=%d nerrors=%d nempty=%d retries=%d\n", st.Received, st.Errors, st.Empty, st.Retries)
	return finishPcq(o, int64(st.Received), st.Errors, runErr)
}

// sideStats are a running side's counts, readable by the status printer.
type sideStats struct{ sent, received, full, empty, retries, errors atomic.Uint64 }

func (s *sideStats) set(st famfs.QueueStats) {
	s.sent.Store(st.Sent)
	s.received.Store(st.Received)
	s.full.Store(st.Full)
	s.empty.Store(st.Empty)
	s.retries.Store(st.Retries)
	s.errors.Store(st.Errors)
}

func pcqRun(e *env, o *pcqFlags, name string) error {
	ctx := context.Background()
	var cancel context.CancelFunc = func() {}
	if o.seconds > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(o.seconds*float64(time.Second)))
	}
	defer cancel()
	var prod, cons *openedQueue
	var err error
	if o.producer {
		if prod, err = openPcq(o, name, famfs.QueueProducer); err != nil {
			return err
		}
		defer prod.close()
	}
	if o.consumer {
		if cons, err = openPcq(o, name, famfs.QueueConsumer); err != nil {
			return err
		}
		defer cons.close()
	}
	var ps, cs sideStats
	var wg sync.WaitGroup
	var perr, cerr error
	if prod != nil {
		wg.Add(1)
		go func() { defer wg.Done(); perr = produce(ctx, e, o, prod, &ps) }()
	}
	if cons != nil {
		wg.Add(1)
		go func() { defer wg.Done(); cerr = consume(ctx, e, o, cons, &cs) }()
	}
	stopStatus := make(chan struct{})
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		if o.status <= 0 {
			return
		}
		t := time.NewTicker(time.Duration(o.status * float64(time.Second)))
		defer t.Stop()
		for {
			select {
			case <-stopStatus:
				return
			case <-t.C:
				fmt.Fprintf(e.stdout, "%s pcq=%s prod(nsent=%d nfull=%d) cons(nrcvd=%d nempty=%d nretries=%d nerrors=%d)\n",
					time.Now().Format("01-02 15:04:05"), name, ps.sent.Load(), ps.full.Load(),
					cs.received.Load(), cs.empty.Load(), cs.retries.Load(), cs.errors.Load())
			}
		}
	}()
	wg.Wait()
	close(stopStatus)
	<-statusDone
	fmt.Fprintf(e.stdout, "pcq:    %s\n", name)
	if prod != nil {
		fmt.Fprintf(e.stdout, "pcq producer: nsent=%d nerrors=%d nfull=%d\n", ps.sent.Load(), ps.errors.Load(), ps.full.Load())
	}
	if cons != nil {
		fmt.Fprintf(e.stdout, "pcq consumer: nreceived=%d nerrors=%d nempty=%d retries=%d\n", cs.received.Load(), cs.errors.Load(), cs.empty.Load(), cs.retries.Load())
	}
	return finishPcq(o, int64(ps.sent.Load()+cs.received.Load()), ps.errors.Load()+cs.errors.Load(), errors.Join(perr, cerr))
}

// done reports whether a side has done its n messages (0: no limit).
func done(n, count uint64) bool { return n > 0 && count >= n }

func produce(ctx context.Context, e *env, o *pcqFlags, q *openedQueue, st *sideStats) error {
	msg := seeded(o.seed, q.PayloadSize())
	if msg == nil {
		msg = make([]byte, 8)
	}
	for i := uint64(0); !done(o.nmessages, i); i++ {
		if o.seed == 0 {
			msg = strconv.AppendUint(msg[:0], i, 10)
		}
		err := q.Put(ctx, msg)
		st.set(q.Stats())
		if errors.Is(err, famfs.ErrQueueFull) {
			return nil // the time is up
		}
		if err != nil {
			return err
		}
		if o.verbose > 1 {
			fmt.Fprintf(e.stdout, "pcq producer: sent message %d\n", i)
		}
	}
	return nil
}

func consume(ctx context.Context, e *env, o *pcqFlags, q *openedQueue, st *sideStats) error {
	want := seeded(o.seed, q.PayloadSize())
	buf := make([]byte, q.PayloadSize())
	for i := uint64(0); !done(o.nmessages, i); i++ {
		m, err := q.Get(ctx, buf)
		if errors.Is(err, famfs.ErrQueueEmpty) {
			st.set(q.Stats())
			return nil // the time is up
		}
		if err != nil {
			st.set(q.Stats())
			return err
		}
		if want != nil && !bytes.Equal(m, want) {
			q.CountError()
		}
		st.set(q.Stats())
		if o.verbose > 1 {
			fmt.Fprintf(e.stdout, "pcq consumer: received message %d\n", i)
		}
	}
	return nil
}

// finishPcq writes the status file (count, or minus the errors) and turns
// the run's outcome into an exit code.
func finishPcq(o *pcqFlags, count int64, nerrors uint64, err error) error {
	v := count
	if nerrors > 0 || err != nil {
		v = -int64(max(nerrors, 1))
	}
	if werr := writeStatusFile(o.statusFile, v); werr != nil && err == nil {
		err = werr
	}
	switch {
	case errors.Is(err, famfs.ErrCoherency):
		return &ExitError{Code: pcqCoherency, Err: err}
	case err != nil:
		return &ExitError{Code: pcqFailed, Err: err}
	case nerrors > 0:
		return &ExitError{Code: pcqFailed, Err: fmt.Errorf("%d messages with the wrong payload", nerrors)}
	}
	return nil
}

// writeStatusFile writes v to path (if set) as the reference's statusfile
// does: one number.
func writeStatusFile(path string, v int64) error {
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(strconv.FormatInt(v, 10)+"\n"), 0o644); err != nil {
		return &ExitError{Code: pcqFailed, Err: err}
	}
	return nil
}
