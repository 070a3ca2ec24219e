package audit

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const packageJSON = `{
  "name": "app",
  "description": "dependencies",
  "dependencies": {
    "left-pad": "^1.1.0",
    "@acme/util": "~1.0.0",
    "pad": "npm:left-pad@^1.0.0"
  },
  "scripts": {"dependencies": "echo"},
  "devDependencies": {
    "dev-tool": "^0.1.0"
  }
}
`

func TestParsePackageJSON(t *testing.T) {
	p, err := ParsePackageJSON("package.json", []byte(packageJSON))
	require.NoError(t, err)
	got := map[string]NpmDependency{}
	for _, d := range p.Dependencies {
		got[d.key] = d
	}
	assert.Equal(t, NpmDependency{Name: "left-pad", Spec: "^1.1.0", Type: "dependencies", Line: 5, key: "left-pad"}, got["left-pad"])
	assert.Equal(t, 6, got["@acme/util"].Line)
	assert.Equal(t, NpmDependency{Name: "left-pad", Spec: "^1.0.0", Type: "dependencies", Line: 7, key: "pad"}, got["pad"], "an npm: alias")
	assert.Equal(t, NpmDependency{Name: "dev-tool", Spec: "^0.1.0", Type: "devDependencies", Line: 11, key: "dev-tool"}, got["dev-tool"])
}

func TestParsePackageJSONErrors(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"{\n  \"dependencies\": {\n    \"a\": \"^1\",\n  }\n}\n", "package.json:4: invalid JSON: invalid character '}' looking for beginning of object key string"},
		{"{\n  \"dependencies\": [\"a\"]\n}\n", "package.json:2: dependencies must map package names to version ranges"},
		{"{\n  \"dependencies\": {\n    \"\": \"^1\"\n  }\n}\n", "package.json:3: an empty package name in dependencies"},
		{"[]", "package.json:1: the document must be a JSON object, not array"},
		{"{\n  \"dependencies\": {\"a\": 1}\n}", "package.json:2: dependencies must map package names to version ranges"},
	} {
		_, err := ParsePackageJSON("package.json", []byte(tc.data))
		assert.EqualError(t, err, tc.want)
	}
}

func TestParsePackageLock(t *testing.T) {
	lock := `{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/left-pad":{"version":"1.1.0"},"node_modules/@acme/util":{"version":"1.0.0"},"node_modules/left-pad/node_modules/x":{"version":"9.9.9"}}}`
	got, err := ParsePackageLock("package-lock.json", []byte(lock))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"left-pad": "1.1.0", "@acme/util": "1.0.0"}, got)
	_, err = ParsePackageLock("package-lock.json", []byte("{\n  \"lockfileVersion\": 1\n}"))
	assert.EqualError(t, err, "package-lock.json:2: lockfile version 1: run npm install with npm 7 or later to write version 2 or 3")
}

func FuzzParsePackageJSON(f *testing.F) {
	f.Add([]byte(packageJSON))
	f.Add([]byte(`{"dependencies":{"a":"npm:"}}`))
	f.Add([]byte(`{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1.0.0"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Count(string(data), "\n") + 1
		check := func(err error) {
			if err == nil {
				return
			}
			var in *InputError
			if !errors.As(err, &in) || in.Line < 0 || in.Line > lines {
				t.Fatalf("%v: not an InputError with a line of the file", err)
			}
		}
		p, err := ParsePackageJSON("package.json", data)
		check(err)
		if err == nil {
			for _, d := range p.Dependencies {
				if d.Name == "" || d.Line < 0 || d.Line > lines {
					t.Fatalf("dependency %+v", d)
				}
			}
		}
		_, err = ParsePackageLock("package-lock.json", data)
		check(err)
	})
}
