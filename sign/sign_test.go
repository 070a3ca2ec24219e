package sign_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/internal/testenv"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/sign"
)

// registries are the two kinds the signatures must work on: the CNCF registry (Debian's docker-registry)
// and shipyard's own registry serve; neither has the referrers API, so the tag fallback is used.
func registries(t *testing.T) map[string]string {
	t.Helper()
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir(), NoUI: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return map[string]string{"registry serve": s.Host(), "distribution": registrytest.Distribution(t, registrytest.Config{}).Host}
}

// pemKey writes a new PEM private key (ECDSA P-256 or Ed25519) and returns its bytes.
func pemKey(t *testing.T, kind string) []byte {
	t.Helper()
	var k any
	var err error
	switch kind {
	case "ecdsa":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	}
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func parse(t *testing.T, data []byte, password string) *sign.Key {
	t.Helper()
	k, err := sign.ParsePrivateKey(data, []byte(password), "the key")
	require.NoError(t, err)
	return k
}

// pushIndex pushes a two-platform index and returns its reference and the digests to sign.
func pushIndex(t *testing.T, host, repo string) (name.Digest, []string) {
	t.Helper()
	idx, err := random.Index(256, 1, 2)
	require.NoError(t, err)
	r := registrytest.Repo(t, host+"/"+repo)
	require.NoError(t, remote.WriteIndex(r.Tag("1.0.0"), idx))
	d, err := idx.Digest()
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	digests := []string{d.String()}
	for _, c := range m.Manifests {
		digests = append(digests, c.Digest.String())
	}
	return r.Digest(d.String()), digests
}

var provenance = &sign.Provenance{BuilderVersion: "1.2.3", Repository: "https://github.com/acme/api", Commit: strings.Repeat("a", 40),
	Ref: "refs/tags/v1.0.0", Base: "cgr.dev/chainguard/static@sha256:" + strings.Repeat("b", 64), GoVersion: "go1.26.8",
	Modules: []sign.Module{{Path: "golang.org/x/text", Version: "v0.38.0", Sum: "h1:abc="}}, Epoch: time.Unix(1700000000, 0)}

func TestSignAndVerify(t *testing.T) {
	for kind, host := range registries(t) {
		for _, alg := range []string{"ecdsa", "ed25519"} {
			t.Run(kind+"/"+alg, func(t *testing.T) {
				key := parse(t, pemKey(t, alg), "")
				ref, digests := pushIndex(t, host, "app-"+alg)
				sboms := map[string][][]byte{}
				for _, d := range digests {
					sboms[d] = [][]byte{[]byte(`{"spdxVersion":"SPDX-2.3"}`)}
				}
				signed, err := sign.Images(context.Background(), sign.Request{Key: key, Repository: ref.Context(), Digests: digests,
					Provenance: provenance, SBOMs: sboms})
				require.NoError(t, err)
				require.Len(t, signed, 3)
				for _, d := range digests {
					v, err := sign.Verify(context.Background(), sign.VerifyRequest{Ref: ref.Context().Digest(d), Key: key.Public(),
						Attestations: []string{sign.ProvenancePredicate, sign.SPDXPredicate}})
					require.NoError(t, err, d)
					assert.Equal(t, d, v.Digest)
					assert.Len(t, v.Verified, 3)
				}
				// By tag: the tag's digest is what is verified.
				v, err := sign.Verify(context.Background(), sign.VerifyRequest{Ref: ref.Context().Tag("1.0.0"), Key: key.Public()})
				require.NoError(t, err)
				assert.Equal(t, ref.DigestStr(), v.Digest)

				// The image is unchanged: signatures are referrers.
				desc, err := remote.Head(ref.Context().Tag("1.0.0"))
				require.NoError(t, err)
				assert.Equal(t, ref.DigestStr(), desc.Digest.String())

				// Another key does not verify it.
				other := parse(t, pemKey(t, alg), "")
				_, err = sign.Verify(context.Background(), sign.VerifyRequest{Ref: ref, Key: other.Public()})
				var nv *sign.NotVerifiedError
				require.ErrorAs(t, err, &nv)
				assert.Contains(t, err.Error(), "its signature does not verify with the key")
			})
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	host := registries(t)["registry serve"]
	key := parse(t, pemKey(t, "ecdsa"), "")
	ref, digests := pushIndex(t, host, "app")
	_, err := sign.Images(context.Background(), sign.Request{Key: key, Repository: ref.Context(), Digests: digests[:1]})
	require.NoError(t, err)

	// A tag moved to another image: that image is not signed.
	other, _ := pushIndex(t, host, "app")
	_, err = sign.Verify(context.Background(), sign.VerifyRequest{Ref: other.Context().Tag("1.0.0"), Key: key.Public()})
	var nv *sign.NotVerifiedError
	require.ErrorAs(t, err, &nv)
	assert.Equal(t, other.DigestStr(), nv.Digest)
	assert.Contains(t, err.Error(), "unsigned")

	// Signed but not attested: an attestation asked is missing.
	_, err = sign.Verify(context.Background(), sign.VerifyRequest{Ref: ref, Key: key.Public(), Attestations: []string{sign.ProvenancePredicate}})
	require.ErrorAs(t, err, &nv)
	assert.Contains(t, err.Error(), "has no https://slsa.dev/provenance/v1 that verifies")

	// A platform that was not signed.
	_, err = sign.Verify(context.Background(), sign.VerifyRequest{Ref: ref.Context().Digest(digests[1]), Key: key.Public()})
	require.ErrorAs(t, err, &nv)
}

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	ec := pemKey(t, "ecdsa")
	rsaPEM := "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKAA\n-----END RSA PRIVATE KEY-----\n"
	for _, tc := range []struct {
		name, data, password, err string
	}{
		{"pkcs8 ecdsa", string(ec), "", ""},
		{"pkcs8 ed25519", string(pemKey(t, "ed25519")), "", ""},
		{"not PEM", "hello", "", "holds no PEM key"},
		{"public", string(parse(t, ec, "").Public().PEM()), "", "is a public key"},
		{"rsa", rsaPEM, "", `is a PEM "RSA PRIVATE KEY"`},
		{"cosign without password", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", "", "its password is needed"},
		{"cosign damaged", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", "pw", "the password is wrong or the key is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sign.ParsePrivateKey([]byte(tc.data), []byte(tc.password), "k.pem")
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			assert.Contains(t, err.Error(), "k.pem")
			var ie interface{ InputOption() string }
			assert.ErrorAs(t, err, &ie)
		})
	}
	path := filepath.Join(dir, "k.pem")
	require.NoError(t, os.WriteFile(path, ec, 0o600))
	data, where, err := sign.ReadKey(path, os.Getenv)
	require.NoError(t, err)
	assert.Equal(t, path, where)
	assert.Equal(t, ec, data)
	data, where, err = sign.ReadKey("env://SIGNING_KEY", func(k string) string { return map[string]string{"SIGNING_KEY": string(ec)}[k] })
	require.NoError(t, err)
	assert.Equal(t, "$SIGNING_KEY", where)
	assert.Equal(t, ec, data)
	_, _, err = sign.ReadKey("env://NOPE", func(string) string { return "" })
	assert.ErrorContains(t, err, "NOPE")
}

// cosign runs the cosign binary (installed by .ci/run), with the password in its environment.
func cosign(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	bin := testenv.Tool(t, "cosign", "go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3 (.ci/run installs it)")
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=correct horse", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCosignInterop: cosign verify accepts what shipyard signs, cosign verify-attestation its provenance
// and SBOM, and shipyard verifies what cosign sign signed, with a key pair of cosign generate-key-pair, on
// both registries.
func TestCosignInterop(t *testing.T) {
	dir := t.TempDir()
	out, err := cosign(t, dir, "generate-key-pair")
	require.NoError(t, err, out)
	private, err := os.ReadFile(filepath.Join(dir, "cosign.key"))
	require.NoError(t, err)
	key := parse(t, private, "correct horse")
	pubData, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	require.NoError(t, err)
	pub, err := sign.ParsePublicKey(pubData, nil, "cosign.pub")
	require.NoError(t, err)
	assert.Equal(t, string(pubData), string(key.Public().PEM()))

	for kind, host := range registries(t) {
		t.Run(kind, func(t *testing.T) {
			ref, digests := pushIndex(t, host, "signed")
			_, err := sign.Images(context.Background(), sign.Request{Key: key, Repository: ref.Context(), Digests: digests,
				Provenance: provenance, SBOMs: map[string][][]byte{digests[0]: {[]byte(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x"}`)}}})
			require.NoError(t, err)
			for _, d := range digests {
				out, err := cosign(t, dir, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--allow-http-registry", ref.Context().Digest(d).String())
				require.NoError(t, err, "cosign verify %s: %s", d, out)
			}
			out, err := cosign(t, dir, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--allow-http-registry", "--type", "slsaprovenance1", ref.String())
			require.NoError(t, err, out)
			var env struct{ Payload []byte }
			require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out[strings.Index(out, "{"):])), &env), out)
			assert.Contains(t, string(env.Payload), `"commit":"`+provenance.Commit+`"`)
			out, err = cosign(t, dir, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--allow-http-registry", "--type", "spdxjson", ref.String())
			require.NoError(t, err, out)

			// cosign signs; shipyard verifies.
			other, _ := pushIndex(t, host, "cosigned")
			out, err = cosign(t, dir, "sign", "--key", "cosign.key", "--use-signing-config=false", "--tlog-upload=false", "--allow-http-registry", "--yes", other.String())
			require.NoError(t, err, out)
			v, err := sign.Verify(context.Background(), sign.VerifyRequest{Ref: other, Key: pub})
			require.NoError(t, err)
			assert.Equal(t, other.DigestStr(), v.Digest)
		})
	}
}

// TestCosignInteropEd25519: an Ed25519 key, imported into cosign (cosign import-key-pair), signs and
// verifies both ways: cosign signs Ed25519 as Ed25519ph, and so does shipyard.
func TestCosignInteropEd25519(t *testing.T) {
	dir := t.TempDir()
	pemData := pemKey(t, "ed25519")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ed.pem"), pemData, 0o600))
	out, err := cosign(t, dir, "import-key-pair", "--key", "ed.pem", "--output-key-prefix", "imported")
	require.NoError(t, err, out)
	key := parse(t, pemData, "")
	pubData, err := os.ReadFile(filepath.Join(dir, "imported.pub"))
	require.NoError(t, err)
	pub, err := sign.ParsePublicKey(pubData, nil, "imported.pub")
	require.NoError(t, err)
	imported, err := os.ReadFile(filepath.Join(dir, "imported.key"))
	require.NoError(t, err)
	assert.Equal(t, string(key.Public().PEM()), string(parse(t, imported, "correct horse").Public().PEM()), "cosign's encrypted copy is the same key")

	host := registries(t)["registry serve"]
	ref, digests := pushIndex(t, host, "ed")
	_, err = sign.Images(context.Background(), sign.Request{Key: key, Repository: ref.Context(), Digests: digests[:1]})
	require.NoError(t, err)
	out, err = cosign(t, dir, "verify", "--key", "imported.pub", "--insecure-ignore-tlog", "--allow-http-registry", ref.String())
	require.NoError(t, err, "cosign verify: %s", out)

	other, _ := pushIndex(t, host, "ed-cosigned")
	out, err = cosign(t, dir, "sign", "--key", "imported.key", "--use-signing-config=false", "--tlog-upload=false", "--allow-http-registry", "--yes", other.String())
	require.NoError(t, err, out)
	_, err = sign.Verify(context.Background(), sign.VerifyRequest{Ref: other, Key: pub})
	require.NoError(t, err)
}
