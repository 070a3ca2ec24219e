package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/internal/testenv"
	"github.com/shipyardci/shipyard/registry"
)

const signPassword = "correct horse battery"

// run2 runs shipyard with env added; it returns stdout, stderr and the exit code.
func run2(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	code := 0
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		code = exit.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// TestSignedBuildVerifiedBeforeRelease: shipyard build --sign-key with a cosign key pair signs the index
// and each platform's image and attests their provenance and SBOMs, which cosign verify and cosign
// verify-attestation accept on both registries; the image digest is the same as unsigned; shipyard
// verify checks them; release create, promote and rollback with --verify-key refuse an unsigned image
// and an image signed with another key; no key material or password shows in any output.
func TestSignedBuildVerifiedBeforeRelease(t *testing.T) {
	cosignBin := testenv.Tool(t, "cosign", "go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3 (.ci/run installs it)")
	keys := t.TempDir()
	gen := exec.Command(cosignBin, "generate-key-pair")
	gen.Dir, gen.Env = keys, append(os.Environ(), "COSIGN_PASSWORD="+signPassword)
	out, err := gen.CombinedOutput()
	require.NoError(t, err, string(out))
	private, err := os.ReadFile(filepath.Join(keys, "cosign.key"))
	require.NoError(t, err)
	env := []string{"COSIGN_PASSWORD=" + signPassword, "SOURCE_DATE_EPOCH=1700000000", "GITHUB_ACTIONS=", "CI="}
	var outputs []string
	shipyardIn := func(dir string, args ...string) (string, string, int) {
		stdout, stderr, code := run2(t, env, append([]string{"-C", dir}, args...)...)
		outputs = append(outputs, stdout, stderr)
		return stdout, stderr, code
	}
	cosign := func(args ...string) (string, error) {
		cmd := exec.Command(cosignBin, args...)
		cmd.Dir, cmd.Env = keys, append(os.Environ(), "HOME="+keys)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir(), NoUI: true})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	hosts := map[string]string{"registry serve": s.Host(), "distribution": registrytest.Distribution(t, registrytest.Config{}).Host}
	for kind, host := range hosts {
		t.Run(kind, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "hello")
			require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(testenv.Root(t), "examples", "hello"))))
			stdout, stderr, code := shipyardIn(dir, "-o", "json", "build", "--app-version", "1.0.0", "--platform", "linux/amd64",
				"--push", host+"/hello:1.0.0", "--sign-key", filepath.Join(keys, "cosign.key"))
			require.Zero(t, code, stderr)
			var rec struct {
				Digest string
				Pushed struct {
					Reference  string
					Signatures []struct {
						Subject, Digest string
						PredicateType   string `json:"predicate_type"`
					}
				}
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &rec), stdout)
			require.Len(t, rec.Pushed.Signatures, 2*2+2, "the index and its platform: a signature, a provenance and an SBOM each")
			signedRef := rec.Pushed.Reference

			// The same build unsigned has the same digest: signatures are referrers.
			stdout, stderr, code = shipyardIn(dir, "-o", "json", "build", "--app-version", "1.0.0", "--platform", "linux/amd64")
			require.Zero(t, code, stderr)
			var plain struct{ Digest string }
			require.NoError(t, json.Unmarshal([]byte(stdout), &plain))
			assert.Equal(t, rec.Digest, plain.Digest)

			for _, subject := range []string{signedRef} {
				out, err := cosign("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--allow-http-registry", subject)
				require.NoError(t, err, "cosign verify: %s", out)
				out, err = cosign("verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--allow-http-registry", "--type", "slsaprovenance1", subject)
				require.NoError(t, err, "cosign verify-attestation: %s", out)
				var env struct{ Payload []byte }
				require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &env), out)
				assert.Contains(t, string(env.Payload), `"predicateType":"https://slsa.dev/provenance/v1"`)
				assert.Contains(t, string(env.Payload), `"uri":"pkg:golang/modernc.org/sqlite@`, "the module list")
				assert.Contains(t, string(env.Payload), `"dirHash1":"`)
				assert.Contains(t, string(env.Payload), `"SOURCE_DATE_EPOCH":1700000000`)
			}
			for _, sig := range rec.Pushed.Signatures {
				if sig.Subject != rec.Digest {
					repo, _, _ := strings.Cut(signedRef, "@")
					out, err := cosign("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--allow-http-registry", repo+"@"+sig.Subject)
					require.NoError(t, err, "cosign verify of a platform: %s", out)
				}
			}

			// shipyard verify: the signature and both attestations.
			stdout, stderr, code = shipyardIn(dir, "-o", "json", "verify", signedRef, "--key", filepath.Join(keys, "cosign.pub"), "--attestation", "slsa", "--attestation", "spdx")
			require.Zero(t, code, stderr)
			var v struct {
				Digest   string
				Verified []struct {
					PredicateType string `json:"predicate_type"`
				}
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &v), stdout)
			assert.Equal(t, rec.Digest, v.Digest)
			assert.Len(t, v.Verified, 3)

			// The wrong key, an unknown attestation, no key.
			other := writeKey(t, "other")
			_, stderr, code = shipyardIn(dir, "verify", signedRef, "--key", other)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "its signature does not verify with the key")
			_, stderr, code = shipyardIn(dir, "verify", signedRef, "--key", filepath.Join(keys, "cosign.pub"), "--attestation", "vex")
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, "--attestation")
			_, stderr, code = shipyardIn(dir, "verify", signedRef)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, "--key")

			// The release gate: unsigned (the same image re-tagged under another digest), signed, another key.
			unsigned := pushUnsigned(t, host)
			_, stderr, code = shipyardIn(dir, "release", "create", "--env", "staging", "--image", unsigned, "--verify-key", filepath.Join(keys, "cosign.pub"), "--no-tag")
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "refusing to release "+unsigned)
			assert.Contains(t, stderr, "unsigned")
			_, stderr, code = shipyardIn(dir, "release", "create", "--env", "staging", "--image", signedRef, "--verify-key", other, "--no-tag")
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "does not verify")
			_, stderr, code = shipyardIn(dir, "release", "create", "--env", "staging", "--image", signedRef, "--verify-key", filepath.Join(keys, "cosign.pub"), "--no-tag")
			require.Zero(t, code, stderr)
			_, stderr, code = shipyardIn(dir, "release", "promote", "--from", "staging", "--to", "prod", "--verify-key", filepath.Join(keys, "cosign.pub"), "--no-tag")
			require.Zero(t, code, stderr)
			_, stderr, code = shipyardIn(dir, "release", "promote", "--from", "staging", "--to", "prod", "--verify-key", other, "--no-tag")
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "refusing to release")
			// Rollback: to an unsigned release (v2, recorded without the gate) is refused, to a signed one not.
			_, stderr, code = shipyardIn(dir, "release", "create", "--env", "staging", "--image", unsigned, "--no-tag")
			require.Zero(t, code, stderr)
			_, stderr, code = shipyardIn(dir, "release", "create", "--env", "staging", "--image", signedRef, "--no-tag")
			require.Zero(t, code, stderr)
			_, stderr, code = shipyardIn(dir, "release", "rollback", "--env", "staging", "--to", "v2", "--verify-key", filepath.Join(keys, "cosign.pub"), "--no-tag")
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "refusing to release "+unsigned)
			_, stderr, code = shipyardIn(dir, "release", "rollback", "--env", "staging", "--to", "v1", "--verify-key", filepath.Join(keys, "cosign.pub"), "--no-tag")
			assert.Zero(t, code, stderr)
		})
	}
	all := strings.Join(outputs, "\n")
	assert.NotContains(t, all, signPassword)
	assert.NotContains(t, all, "PRIVATE KEY")
	body := strings.Join(strings.Split(strings.TrimSpace(string(private)), "\n")[1:3], "")
	assert.NotContains(t, all, body[:40], "no part of the key in any output")
}

// writeKey writes a new cosign-format public key of a throwaway ECDSA key, and returns its file.
func writeKey(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(testenv.Tool(t, "cosign", ""), "generate-key-pair", "--output-key-prefix", name)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "COSIGN_PASSWORD=x")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return filepath.Join(dir, name+".pub")
}

// pushUnsigned pushes a small image nobody signed and returns it by digest.
func pushUnsigned(t *testing.T, host string) string {
	t.Helper()
	layout, img := registrytest.Image(t, 512, 1)
	d, err := img.Digest()
	require.NoError(t, err)
	_, stderr, code := run2(t, nil, "push", layout, host+"/hello:unsigned")
	require.Zero(t, code, stderr)
	return fmt.Sprintf("%s/hello@%s", host, d)
}
