package registry_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/registry"
)

// faultyProxy stands in front of a registry and, at random, resets ~10% of connections and answers
// 503 to ~10% of requests.
type faultyProxy struct {
	mu             sync.Mutex
	rnd            *rand.Rand
	resets, errors atomic.Int64
	next           http.Handler
}

func (p *faultyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	roll := p.rnd.Float64()
	p.mu.Unlock()
	switch {
	case roll < 0.1:
		p.resets.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0) // RST, not FIN
		}
		conn.Close()
	case roll < 0.2:
		p.errors.Add(1)
		http.Error(w, "try again", http.StatusServiceUnavailable)
	default:
		p.next.ServeHTTP(w, r)
	}
}

// TestPushThroughFaults: 20 pushes in a row through the faulty proxy all succeed, with one digest.
func TestPushThroughFaults(t *testing.T) {
	ctx := context.Background()
	r := embedded(t, registrytest.Config{})
	target, err := url.Parse("http://" + r.Host)
	require.NoError(t, err)
	proxy := &faultyProxy{rnd: rand.New(rand.NewPCG(1, 2)), next: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	host := srv.Listener.Addr().String()

	dir, img := registrytest.Image(t, 256<<10, 4)
	want, err := img.Digest()
	require.NoError(t, err)
	c := client(t, &registrytest.Registry{Host: host})
	for i := range 20 {
		res, err := c.Push(ctx, load(t, dir), registrytest.Ref(t, fmt.Sprintf("%s/faults-%d:1.0.%d", host, i, i)), registry.PushOptions{})
		require.NoError(t, err, "push %d", i)
		assert.Equal(t, want.String(), res.Digest)
	}
	t.Logf("%d connections reset, %d requests answered 503", proxy.resets.Load(), proxy.errors.Load())
	assert.Positive(t, proxy.resets.Load())
	assert.Positive(t, proxy.errors.Load())
}
