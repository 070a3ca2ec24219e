package pipeline

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyFiles writes a new ECDSA P-256 key pair as PEM files: the private key and the public key.
func keyFiles(t *testing.T) (private, public string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	dir := t.TempDir()
	private, public = filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pub")
	require.NoError(t, os.WriteFile(private, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(public, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644))
	return private, public
}

// TestRunSignsAndVerifies: with build.sign_key the pipeline's build signs and attests what it pushes,
// and with release.verify_key its release stage checks the signature: another key's refuses it.
func TestRunSignsAndVerifies(t *testing.T) {
	o := hello(t, true)
	private, public := keyFiles(t)
	o.Config.Build.SignKey, o.Config.Release.VerifyKey = private, public
	o.Stages = []string{"build", "version", "release"}
	report, err := Run(context.Background(), o, Hooks{})
	require.NoError(t, err)
	built := report.Stages[0].Result.(*BuildResult)
	require.NotNil(t, built.Record.Pushed)
	assert.Len(t, built.Record.Pushed.Signatures, 6, "the index and its platform: a signature, a provenance and an SBOM each")
	assert.Equal(t, OK, report.Stages[2].Status)

	_, other := keyFiles(t)
	o.Config.Release.VerifyKey = other
	o.Stages = []string{"release"}
	report, err = Run(context.Background(), o, Hooks{})
	require.Error(t, err)
	var unsigned *UnsignedError
	require.True(t, errors.As(report.Stages[0].Err, &unsigned), "%v", report.Stages[0].Err)
	assert.Contains(t, unsigned.Error(), built.Record.Pushed.Reference.String())
}
