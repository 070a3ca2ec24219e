package registry

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// counter is the client's transport, counting what crosses the wire: bytes of blob uploads, blobs
// uploaded (PUT …?digest= 201) and blobs mounted from another repository (POST ?mount= 201).
type counter struct {
	next                         http.RoundTripper
	uploaded, committed, mounted atomic.Int64
}

// Stats is what an operation moved.
type Stats struct {
	BytesUploaded int64 `json:"bytes_uploaded"`
	BlobsUploaded int64 `json:"blobs_uploaded"`
	BlobsMounted  int64 `json:"blobs_mounted"` // mounted from another repository of the registry
	BlobsSkipped  int64 `json:"blobs_skipped"` // already in the repository
}

func (c *counter) snapshot() Stats {
	return Stats{BytesUploaded: c.uploaded.Load(), BlobsUploaded: c.committed.Load(), BlobsMounted: c.mounted.Load()}
}

// since is what moved after before, for an artifact of blobs blobs: those neither uploaded nor mounted
// were already there.
func (s Stats) since(before Stats, blobs int) Stats {
	d := Stats{BytesUploaded: s.BytesUploaded - before.BytesUploaded, BlobsUploaded: s.BlobsUploaded - before.BlobsUploaded, BlobsMounted: s.BlobsMounted - before.BlobsMounted}
	d.BlobsSkipped = max(0, int64(blobs)-d.BlobsUploaded-d.BlobsMounted)
	return d
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	upload := strings.Contains(req.URL.Path, "/blobs/uploads/")
	sending := upload && req.Body != nil && req.Body != http.NoBody && (req.Method == http.MethodPatch || req.Method == http.MethodPut || req.Method == http.MethodPost)
	// A body of known length is counted once it is accepted, and left as it is: wrapping a file would keep
	// net/http from sending it with sendfile(2).
	if sending && req.ContentLength < 0 {
		req.Body = &countingBody{ReadCloser: req.Body, n: &c.uploaded}
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if sending && req.ContentLength > 0 && resp.StatusCode < 300 {
		c.uploaded.Add(req.ContentLength)
	}
	switch {
	case req.Method == http.MethodPut && upload && resp.StatusCode == http.StatusCreated:
		c.committed.Add(1)
	case req.Method == http.MethodPost && upload && req.URL.Query().Get("mount") != "" && resp.StatusCode == http.StatusCreated:
		c.mounted.Add(1)
	}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// relay passes go-containerregistry's progress updates on as Progress, dropping them when the reader is
// behind: a progress bar needs the latest, not every one.
func relay(out chan<- Progress) chan<- v1.Update {
	in := make(chan v1.Update, 64)
	go func() {
		for u := range in {
			select {
			case out <- Progress{Total: u.Total, Complete: u.Complete}:
			default:
			}
		}
	}()
	return in
}

// blobCount is how many distinct blobs (layers and configs) the artifact holds, its images' for an index.
func blobCount(a remote.Taggable) (int, error) {
	seen := map[v1.Hash]bool{}
	err := eachImage(a, func(m *v1.Manifest) {
		seen[m.Config.Digest] = true
		for _, l := range m.Layers {
			seen[l.Digest] = true
		}
	})
	return len(seen), err
}

// eachImage calls fn with the manifest of the image a is, or of every image of the index a is.
func eachImage(a remote.Taggable, fn func(*v1.Manifest)) error {
	var walk func(t remote.Taggable) error
	walk = func(t remote.Taggable) error {
		switch x := t.(type) {
		case v1.ImageIndex:
			im, err := x.IndexManifest()
			if err != nil {
				return err
			}
			for _, d := range im.Manifests {
				var child remote.Taggable
				switch {
				case d.MediaType.IsIndex():
					child, err = x.ImageIndex(d.Digest)
				case d.MediaType.IsImage():
					child, err = x.Image(d.Digest)
				default:
					continue
				}
				if err != nil {
					return err
				}
				if err := walk(child); err != nil {
					return err
				}
			}
		case v1.Image:
			m, err := x.Manifest()
			if err != nil {
				return err
			}
			fn(m)
		}
		return nil
	}
	if err := walk(a); err != nil {
		return fmt.Errorf("reading the manifests: %w", err)
	}
	return nil
}

// retrier retries the requests it can send again (no body, or one it can rewind) on a reset or closed
// connection and on 429, 502, 503 and 504, below go-containerregistry's own retries: those start a blob
// upload over from its existence check, so a fault on any of its four requests costs a whole try.
type retrier struct {
	next    http.RoundTripper
	tries   int
	backoff time.Duration
}

func (r *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for try := 1; ; try++ {
		resp, err := r.next.RoundTrip(req)
		if !replayable || try >= r.tries || !transient(resp, err) || req.Context().Err() != nil {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if req.GetBody != nil {
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, gerr
			}
			req.Body = body
		}
		d := r.backoff << min(try-1, 5)
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(d/2 + rand.N(d)):
		}
	}
}

func transient(resp *http.Response, err error) bool {
	if err != nil {
		return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) ||
			errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// plainHTTPGuard refuses plain HTTP to any registry but a loopback one, unless insecure: go-containerregistry
// falls back to HTTP for private (RFC 1918) addresses too, which a network attacker could force.
type plainHTTPGuard struct {
	next     http.RoundTripper
	insecure bool
}

func (g plainHTTPGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.insecure && !isLoopback(req.URL.Hostname()) {
		return nil, &PlainHTTPError{Host: req.URL.Host}
	}
	return g.next.RoundTrip(req)
}

// PlainHTTPError is a request in plain HTTP to a registry that is not on loopback, which the client
// refuses unless Options.Insecure.
type PlainHTTPError struct{ Host string }

func (e *PlainHTTPError) Error() string {
	return fmt.Sprintf("refusing plain HTTP to %s: only loopback registries are reached without TLS", e.Host)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
