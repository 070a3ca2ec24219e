package coverage

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProfile(t *testing.T) {
	in := `mode: atomic
example.com/m/b.go:3.10,5.2 2 0
example.com/m/a.go:10.5,12.3 1 4
example.com/m/a.go:3.14,4.2 1 1
example.com/m/a.go:10.5,12.3 1 2

example.com/m/a.go:7.1,8.2 3 0
`
	p, err := ParseProfile(strings.NewReader(in), "cover.out")
	require.NoError(t, err)
	assert.Equal(t, "atomic", p.Mode)
	require.Len(t, p.Files, 2)
	assert.Equal(t, "example.com/m/a.go", p.Files[0].Name, "files sorted by name")
	assert.Equal(t, []Block{
		{3, 14, 4, 2, 1, 1},
		{7, 1, 8, 2, 3, 0},
		{10, 5, 12, 3, 1, 6}, // the repeated block is merged, counts summed
	}, p.Files[0].Blocks)
}

func TestParseProfileSetModeMergesWithOr(t *testing.T) {
	p, err := ParseProfile(strings.NewReader("mode: set\na.go:1.1,2.2 1 1\na.go:1.1,2.2 1 1\na.go:1.1,2.2 1 0\n"), "p")
	require.NoError(t, err)
	assert.Equal(t, 1, p.Files[0].Blocks[0].Count)
}

func TestParseProfileFileNamesWithColonsAndDots(t *testing.T) {
	p, err := ParseProfile(strings.NewReader("mode: set\nC:/work/m.v2/x.go:1.2,3.4 5 6\n"), "p")
	require.NoError(t, err)
	assert.Equal(t, "C:/work/m.v2/x.go", p.Files[0].Name)
	assert.Equal(t, Block{1, 2, 3, 4, 5, 6}, p.Files[0].Blocks[0])
}

func TestParseProfileErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "cover.out:1: empty profile: want a first line \"mode: set|count|atomic\""},
		{"no mode line", "a.go:1.1,2.2 1 1\n", "cover.out:1: want a first line \"mode: set|count|atomic\", got \"a.go:1.1,2.2 1 1\""},
		{"unknown mode", "mode: sometimes\n", "cover.out:1: unknown mode \"sometimes\" (want set, count or atomic)"},
		{"bad count", "mode: set\na.go:1.1,2.2 1 1\na.go:3.1,4.2 1 x\n", "cover.out:3: bad count \"x\" in \"a.go:3.1,4.2 1 x\" (want FILE:LINE.COL,LINE.COL STATEMENTS COUNT)"},
		{"negative", "mode: set\na.go:1.1,2.2 -1 1\n", "cover.out:2: bad statement count \"-1\" in \"a.go:1.1,2.2 -1 1\" (want FILE:LINE.COL,LINE.COL STATEMENTS COUNT)"},
		{"missing field", "mode: set\na.go:1.1 1 1\n", "cover.out:2: no ',' before the end line in \"a.go:1.1 1 1\" (want FILE:LINE.COL,LINE.COL STATEMENTS COUNT)"},
		{"no file", "mode: set\n:1.1,2.2 1 1\n", "cover.out:2: no file name in \":1.1,2.2 1 1\" (want FILE:LINE.COL,LINE.COL STATEMENTS COUNT)"},
		{"inconsistent statements", "mode: set\na.go:1.1,2.2 1 1\na.go:1.1,2.2 2 1\n", "cover.out:3: a.go:1.1: the block counts 1 statements in one profile and 2 in another: the profiles come from different sources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProfile(strings.NewReader(tt.in), "cover.out")
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestMerge(t *testing.T) {
	// Two packages' test binaries (go test -coverpkg) both report pkg/a.go; each ran different blocks.
	p1, err := ParseProfile(strings.NewReader("mode: atomic\nm/a.go:1.1,2.2 1 3\nm/a.go:3.1,4.2 2 0\nm/b.go:1.1,2.2 1 0\n"), "one")
	require.NoError(t, err)
	p2, err := ParseProfile(strings.NewReader("mode: atomic\nm/a.go:3.1,4.2 2 5\nm/a.go:1.1,2.2 1 0\nm/c.go:1.1,2.2 1 1\n"), "two")
	require.NoError(t, err)
	m, err := Merge(p1, p2)
	require.NoError(t, err)
	assert.Equal(t, "atomic", m.Mode)
	require.Len(t, m.Files, 3)
	assert.Equal(t, []Block{{1, 1, 2, 2, 1, 3}, {3, 1, 4, 2, 2, 5}}, m.Files[0].Blocks)
	assert.Equal(t, 3, len(p1.Files[0].Blocks)+len(p1.Files[1].Blocks), "inputs are not modified")

	set, err := ParseProfile(strings.NewReader("mode: set\nm/a.go:1.1,2.2 1 1\n"), "three")
	require.NoError(t, err)
	m, err = Merge(p1, set)
	require.NoError(t, err)
	assert.Equal(t, "set", m.Mode, "set with count merges as set")
	assert.Equal(t, 1, m.Files[0].Blocks[0].Count)
}

func FuzzParseProfile(f *testing.F) {
	f.Add("mode: set\na.go:1.2,3.4 5 6\n")
	f.Add("mode: atomic\nx/y.go:10.1,10.20 1 0\nx/y.go:10.1,10.20 1 7\nx/z.go:1.1,1.2 0 0\n")
	f.Add("mode: count\n:::.,, 1 1\n")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParseProfile(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		for _, fp := range p.Files {
			if fp.Name == "" {
				t.Fatal("a file without a name")
			}
			for i, b := range fp.Blocks {
				if b.NumStmt < 0 || b.Count < 0 {
					t.Fatalf("negative block %+v", b)
				}
				if i > 0 && fp.Blocks[i-1].samePlace(b) {
					t.Fatalf("duplicate block %+v after merging", b)
				}
			}
		}
	})
}

// TestParseProfileMergesAsItReads: a profile that -coverpkg wrote once per test binary (the same blocks
// again and again, in order or not) parses to its distinct blocks with the counts summed, as one copy
// with the counts multiplied would.
func TestParseProfileMergesAsItReads(t *testing.T) {
	one := "a.go:1.1,2.2 1 1\na.go:3.1,4.2 2 0\nb.go:1.1,1.9 1 3\n"
	reversed := "b.go:1.1,1.9 1 3\na.go:3.1,4.2 2 0\na.go:1.1,2.2 1 1\n"
	var many strings.Builder
	many.WriteString("mode: count\n")
	for i := range 100 {
		many.WriteString(map[bool]string{true: one, false: reversed}[i%2 == 0])
	}
	p, err := ParseProfile(strings.NewReader(many.String()), "cover.out")
	require.NoError(t, err)
	require.Len(t, p.Files, 2)
	assert.Equal(t, []Block{{1, 1, 2, 2, 1, 100}, {3, 1, 4, 2, 2, 0}}, p.Files[0].Blocks)
	assert.Equal(t, []Block{{1, 1, 1, 9, 1, 300}}, p.Files[1].Blocks)
	assert.Nil(t, p.Files[0].index, "the parse's index goes with it")
}
