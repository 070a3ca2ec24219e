// Package registrytest starts real registries for tests: the CNCF distribution registry from Debian's
// docker-registry package (installed by .ci/run), with htpasswd authentication and TLS from a test CA,
// and makes test images. A test fails in CI and is skipped elsewhere when the registry is not installed.
package registrytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"golang.org/x/crypto/bcrypt"
)

// User and Password are the credentials of registries started with Auth.
const (
	User     = "shipyard"
	Password = "s3cret-Pa55word"
)

// Config says how a registry is protected.
type Config struct {
	TLS  bool // HTTPS with a certificate of a test CA (Registry.CACert)
	Auth bool // htpasswd with User and Password
}

// Registry is a running registry.
type Registry struct {
	Host   string // 127.0.0.1:port
	CACert string // PEM file of the CA that signed its certificate (TLS only)
	Root   string // its storage
	// TLSCert, TLSKey and Htpasswd are the files it was started with.
	TLSCert, TLSKey, Htpasswd string
}

// Files writes the TLS and htpasswd files of cfg into dir.
func Files(t testing.TB, dir string, cfg Config) *Registry {
	t.Helper()
	r := &Registry{Root: filepath.Join(dir, "data")}
	if cfg.TLS {
		r.CACert, r.TLSCert, r.TLSKey = certificates(t, dir)
	}
	if cfg.Auth {
		hash, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		r.Htpasswd = filepath.Join(dir, "htpasswd")
		write(t, r.Htpasswd, User+":"+string(hash)+"\n")
	}
	return r
}

// Distribution starts Debian's docker-registry (the CNCF distribution registry) on a free port.
func Distribution(t testing.TB, cfg Config) *Registry {
	t.Helper()
	bin := testenv.Tool(t, "docker-registry", "apt-get install docker-registry")
	dir := t.TempDir()
	r := Files(t, dir, cfg)
	port := FreePort(t)
	r.Host = fmt.Sprintf("127.0.0.1:%d", port)
	conf := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", r.Root, r.Host)
	if cfg.TLS {
		conf += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", r.TLSCert, r.TLSKey)
	}
	if cfg.Auth {
		conf += fmt.Sprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s\n", r.Htpasswd)
	}
	write(t, filepath.Join(dir, "config.yml"), conf)
	logFile := filepath.Join(dir, "registry.log")
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting docker-registry: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logFile)
			t.Logf("docker-registry's log:\n%s", data)
		}
	})
	WaitReady(t, r.Host)
	return r
}

// WaitReady waits until something accepts connections on host.
func WaitReady(t testing.TB, host string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no registry on %s: %v", host, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreePort is a TCP port free on 127.0.0.1 now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// certificates makes a CA and a server certificate it signs for 127.0.0.1 and localhost.
func certificates(t testing.TB, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shipyard test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	write(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	return caFile, certFile, keyFile
}

// Image writes a random image of layers layers of size bytes each into a new OCI layout, and returns
// the layout's directory and the image.
func Image(t testing.TB, size int64, layers int) (string, v1.Image) {
	t.Helper()
	img, err := random.Image(size, int64(layers))
	if err != nil {
		t.Fatal(err)
	}
	return Layout(t, img), img
}

// Layout writes img into a new OCI layout directory.
func Layout(t testing.TB, img v1.Image) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Index writes a random multi-platform index of n images into a new OCI layout.
func Index(t testing.TB, n int) (string, v1.ImageIndex) {
	t.Helper()
	idx, err := random.Index(1024, 2, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	return dir, idx
}

// Transport trusts the registry's CA, for checks made in tests without shipyard.
func (r *Registry) Transport(t testing.TB) http.RoundTripper {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if r.CACert != "" {
		pool := x509.NewCertPool()
		pemData, err := os.ReadFile(r.CACert)
		if err != nil {
			t.Fatal(err)
		}
		pool.AppendCertsFromPEM(pemData)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// Ref parses an image reference of a test registry (plain HTTP on loopback, as go-containerregistry does).
func Ref(t testing.TB, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Repo parses a repository of a test registry.
func Repo(t testing.TB, s string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
