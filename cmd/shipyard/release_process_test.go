package main

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/registry"
)

// TestConcurrentReleaseCreateInTheRegistry starts 5 `shipyard release create` for one environment at
// once, as 5 CI jobs would, with the records in the image's repository: 5 distinct consecutive numbers.
func TestConcurrentReleaseCreateInTheRegistry(t *testing.T) {
	ctx := context.Background()
	s, err := registry.Start(ctx, registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()})
	require.NoError(t, err)
	defer s.Close()
	client, err := registry.New(registry.Options{})
	require.NoError(t, err)
	layout, _ := registrytest.Image(t, 1024, 1)
	a, err := registry.Load(layout)
	require.NoError(t, err)
	pushed, err := client.Push(ctx, a, registrytest.Ref(t, s.Host()+"/api:1.0.0"), registry.PushOptions{NoExpand: true})
	require.NoError(t, err)

	var wg sync.WaitGroup
	names := make([]string, 5)
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stdout, stderr, code := shipyard(t, "-o", "json", "release", "create", "--env", "staging", "--image", pushed.Reference.String(),
				"--store", "registry://"+s.Host()+"/api", "--no-tag")
			if !assert.Equal(t, 0, code, stderr) {
				return
			}
			var r struct{ Name string }
			assert.NoError(t, json.Unmarshal([]byte(stdout), &r))
			names[i] = r.Name
		}()
	}
	wg.Wait()
	slices.Sort(names)
	assert.Equal(t, []string{"v1", "v2", "v3", "v4", "v5"}, names)
}
