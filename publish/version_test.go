package publish

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetVersion(t *testing.T) {
	pkg := "{\n  \"name\": \"a\",\n  \"dependencies\": {\"x\": {\"version\": \"9\"}},\n  \"version\": \"1.0.0\",\n  \"scripts\": {}\n}\n"
	out, err := SetVersion([]byte(pkg), "1.1.0", false)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"name\": \"a\",\n  \"dependencies\": {\"x\": {\"version\": \"9\"}},\n  \"version\": \"1.1.0\",\n  \"scripts\": {}\n}\n", string(out))

	lock := "{\n  \"name\": \"a\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/x\": {\"version\": \"2.0.0\"},\n    \"\": {\n      \"name\": \"a\",\n      \"version\": \"1.0.0\"\n    }\n  }\n}\n"
	out, err = SetVersion([]byte(lock), "2.0.0-rc.1", true)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"name\": \"a\",\n  \"version\": \"2.0.0-rc.1\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/x\": {\"version\": \"2.0.0\"},\n    \"\": {\n      \"name\": \"a\",\n      \"version\": \"2.0.0-rc.1\"\n    }\n  }\n}\n", string(out))

	_, err = SetVersion([]byte(`{"name":"a"}`), "1.0.0", false)
	assert.ErrorContains(t, err, "no version")
	_, err = SetVersion([]byte(`{"version": 1}`), "1.0.0", false)
	assert.ErrorContains(t, err, "not a string")
	_, err = SetVersion([]byte(`{"version": `), "1.0.0", false)
	assert.Error(t, err)
}

// FuzzSetVersion: on any document, SetVersion errs or changes only the version's bytes.
func FuzzSetVersion(f *testing.F) {
	f.Add([]byte(`{"name":"a","version":"1.0.0"}`))
	f.Add([]byte(`{"a":[{"version":"x"}],"version":"0.0.1","packages":{"":{"version":"0.0.1"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := SetVersion(data, "9.9.9", true)
		if err != nil {
			return
		}
		start, end, err := findString(out, []string{"version"})
		if err != nil || start < 0 || string(out[start:end]) != `"9.9.9"` {
			t.Fatalf("the version was not written: %q", out)
		}
	})
}
