package guard

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
)

// Middleware lets only root and users t trusts make requests that change
// the daemon's state (anything but GET and HEAD); the others get 403, and
// forbidden counts them.
func Middleware(next http.Handler, t Trust, forbidden *atomic.Uint64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			p, ok := PeerFrom(r.Context())
			if !ok || !t.Trusted(p, false) {
				uid := "unknown"
				if ok {
					uid = strconv.FormatUint(uint64(p.UID), 10)
				}
				forbidden.Add(1)
				http.Error(w, fmt.Sprintf("%s %s: only root and users trusted with the device %s (who may open it, or -o zerocopy_group) may do this; uid %s may not",
					r.Method, r.URL.Path, t.Device, uid), http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
