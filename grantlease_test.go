package famfs

import "testing"

type countCloser struct{ n int }

func (c *countCloser) Close() error { c.n++; return nil }

// OpenMounted's lease ends once the FS is closed and its Mappings are
// unmapped, whichever comes last, exactly once.
func TestGrantLeaseKeeper(t *testing.T) {
	c := &countCloser{}
	g := &grantLease{lease: c}
	unpin1, unpin2 := g.pin(), g.pin()
	unpin1()
	unpin1() // idempotent
	g.close()
	if c.n != 0 {
		t.Fatal("the lease ended while a Mapping was live")
	}
	unpin2()
	if c.n != 1 {
		t.Fatalf("closed %d times, want 1", c.n)
	}
	g.close()
	if c.n != 1 {
		t.Fatal("closed again")
	}
	c2 := &countCloser{}
	g2 := &grantLease{lease: c2}
	g2.close()
	if c2.n != 1 {
		t.Fatal("no Mappings: Close ends the lease")
	}
	var none *grantLease // an FS without a grant
	none.pin()()
	none.close()
}
