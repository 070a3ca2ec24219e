package sign

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

func testKey(t testing.TB) (*Key, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	key, err := ParsePrivateKey(data, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	return key, data
}

// FuzzOpenBundle: a bundle read from a registry opens only when its signature verifies: any change to a
// signed bundle's statement is refused, and nothing panics.
func FuzzOpenBundle(f *testing.F) {
	key, _ := testKey(f)
	st, err := newStatement("r", "sha256:"+string(bytes.Repeat([]byte("a"), 64)), SignaturePredicate, struct{}{})
	if err != nil {
		f.Fatal(err)
	}
	signed, err := key.signBundle(st)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA=="}]}}`))
	pub := key.Public()
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := pub.openBundle(data)
		if err != nil {
			return
		}
		if got == nil {
			t.Fatal("a bundle opened with no statement")
		}
		// What opened was signed by the key: its payload is the statement signed above.
		if !bytes.Equal(data, signed) && got.PredicateType != SignaturePredicate {
			t.Fatalf("a bundle that was never signed opened: %q", data)
		}
	})
}

// FuzzParseKey: keys from files never panic the parsers, and a key that parses signs what it verifies.
func FuzzParseKey(f *testing.F) {
	_, data := testKey(f)
	f.Add(data, []byte(""))
	f.Add([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), []byte("pw"))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), []byte(""))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		if k, err := ParsePrivateKey(data, password, "fuzz"); err == nil {
			sig, err := k.sign([]byte("message"))
			if err != nil || !k.Public().verify([]byte("message"), sig) {
				t.Fatalf("a parsed key does not verify its own signature: %v", err)
			}
		}
		_, _ = ParsePublicKey(data, password, "fuzz")
	})
}
