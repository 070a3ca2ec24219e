package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
)

// TestConcurrentPushesConverge: in each of 10 rounds, 8 shipyard processes push 1.R.1 … 1.R.8 of one
// repository at once, in a shuffled order. Each sets latest, 1 and 1.R from the tags it saw, so a push
// of a lower version can move them back after a higher one; the read-back and repair must leave them on
// 1.R.8 every time, on the CNCF registry and on the embedded one.
func TestConcurrentPushesConverge(t *testing.T) {
	const rounds, pushers = 10, 8
	images := make([][]string, rounds) // the OCI layouts of each round
	digests := make([][]string, rounds)
	for r := range rounds {
		for range pushers {
			dir, img := registrytest.Image(t, 512, 1)
			d, err := img.Digest()
			require.NoError(t, err)
			images[r], digests[r] = append(images[r], dir), append(digests[r], d.String())
		}
	}
	for _, kind := range []struct {
		name  string
		start func() *registrytest.Registry
	}{
		{"distribution", func() *registrytest.Registry { return registrytest.Distribution(t, registrytest.Config{}) }},
		{"embedded", func() *registrytest.Registry {
			r := registrytest.Files(t, t.TempDir(), registrytest.Config{})
			r.Host = fmt.Sprintf("127.0.0.1:%d", registrytest.FreePort(t))
			serve(t, r)
			return r
		}},
	} {
		t.Run(kind.name, func(t *testing.T) {
			reg := kind.start()
			repo := reg.Host + "/converge"
			for r := range rounds {
				outs := make([]pushReport, pushers)
				var wg sync.WaitGroup
				for _, i := range rand.Perm(pushers) {
					wg.Add(1)
					go func() {
						defer wg.Done()
						out, err := exec.Command(binary, "-o", "json", "push", images[r][i], fmt.Sprintf("%s:1.%d.%d", repo, r, i+1)).Output()
						if assert.NoError(t, err, "push %d of round %d: %s", i+1, r, out) {
							assert.NoError(t, json.Unmarshal(out, &outs[i]))
						}
					}()
				}
				wg.Wait()
				highest := digests[r][pushers-1]
				for _, tag := range []string{"latest", "1", fmt.Sprintf("1.%d", r)} {
					assert.Equal(t, highest, peer(t, nil, "crane", "digest", "--insecure", repo+":"+tag), "round %d: %s names 1.%d.%d", r, tag, r, pushers)
				}
				assert.Subset(t, outs[pushers-1].Tags, []string{"latest", "1", fmt.Sprintf("1.%d", r)}, "the highest push reports the moving tags as its own")
				for i, out := range outs {
					assert.Equal(t, digests[r][i], peer(t, nil, "crane", "digest", "--insecure", fmt.Sprintf("%s:1.%d.%d", repo, r, i+1)), "a version tag names its image")
					for tag, version := range out.Superseded {
						assert.Greater(t, version, fmt.Sprintf("1.%d.%d", r, i+1), "%s was taken by a higher version", tag)
					}
				}
			}
		})
	}
}

// pushReport is what shipyard push -o json says of the tags.
type pushReport struct {
	Digest     string            `json:"digest"`
	Tags       []string          `json:"tags"`
	Superseded map[string]string `json:"superseded"`
}
