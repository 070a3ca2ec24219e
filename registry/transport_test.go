package registry

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type okTransport struct{}

func (okTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	for _, tc := range []struct {
		url      string
		insecure bool
		allowed  bool
	}{
		{"http://127.0.0.1:5000/v2/", false, true},
		{"http://[::1]:5000/v2/", false, true},
		{"http://localhost:5000/v2/", false, true},
		{"http://10.0.0.5:5000/v2/", false, false},
		{"http://192.168.1.10/v2/", false, false},
		{"http://registry.example.com/v2/", false, false},
		{"http://registry.example.com/v2/", true, true},
		{"https://registry.example.com/v2/", false, true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tc.url, nil)
			require.NoError(t, err)
			_, err = plainHTTPGuard{next: okTransport{}, insecure: tc.insecure}.RoundTrip(req)
			if tc.allowed {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, "refusing plain HTTP to "+req.URL.Host+": only loopback registries are reached without TLS")
			}
		})
	}
}
