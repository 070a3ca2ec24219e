package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

const (
	uiRepositories = 1000
	uiTagsEach     = 5    // in each repository
	uiBigTags      = 5000 // more in team-0500/app: 10,000 tags in all
	uiPageGoal     = 300 * time.Millisecond
)

// benchRegistryUI fills `shipyard registry serve` with 1,000 repositories of 5 tags each, one of them
// with 5,000 more (10,000 tags in all), then times the first page of the UI's repositories, of a search,
// and of the big repository's tags (each tag described: digest, platforms, size, created, labels), cold
// (the first request after a restart) and warm (the median). The peer is what a user runs without a UI
// for the same answer: crane catalog and crane ls.
func benchRegistryUI(ctx context.Context, b *bench) error {
	crane, err := exec.LookPath("crane")
	if err != nil {
		return fmt.Errorf("crane is not installed: go install github.com/google/go-containerregistry/cmd/crane@v0.22.1")
	}
	host, err := freeHost()
	if err != nil {
		return err
	}
	root := filepath.Join(b.scratch, "registry-ui")
	serve := func() (func(), error) {
		cmd := exec.CommandContext(ctx, b.shipyard, "registry", "serve", "--addr", host, "--root", root, "--quiet")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
		if err := waitListening(host, "shipyard registry serve"); err != nil {
			stop()
			return nil, err
		}
		return stop, nil
	}
	stop, err := serve()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := fillRegistry(ctx, host); err != nil {
		stop()
		return err
	}
	fmt.Printf("pushed %d repositories of %d tags each, and %d more tags in team-0500/app, in %s\n", uiRepositories, uiTagsEach, uiBigTags, time.Since(start).Round(time.Millisecond))
	pages := []struct{ title, path, peer string }{
		{"repositories, first page", "/ui/", "catalog"},
		{"repositories starting with team-0500, first page", "/ui/?q=team-0500", "catalog"},
		{fmt.Sprintf("tags of a repository of %d, first page (each described)", uiTagsEach+uiBigTags), "/ui/tags?repo=team-0500%2Fapp", "ls"},
	}
	peers := map[string][]string{"catalog": {crane, "catalog", host}, "ls": {crane, "ls", host + "/team-0500/app"}}
	for _, p := range pages {
		stop()
		if stop, err = serve(); err != nil {
			return err
		}
		cold, err := getPage(ctx, "http://"+host+p.path)
		if err != nil {
			stop()
			return err
		}
		warm := make([]time.Duration, b.runs)
		for i := range warm {
			if warm[i], err = getPage(ctx, "http://"+host+p.path); err != nil {
				stop()
				return err
			}
		}
		slices.Sort(warm)
		peer, err := b.timed(ctx, b.scratch, peers[p.peer][0], peers[p.peer][1:]...)
		if err != nil {
			stop()
			return err
		}
		b.report(fmt.Sprintf("registry UI, %d repositories, %d tags: %s, cold (first request after a restart): %s", uiRepositories, uiRepositories*uiTagsEach+uiBigTags, p.title, cold.Round(time.Millisecond)),
			warm[len(warm)/2], peer, "crane "+p.peer+" (the whole list)", uiPageGoal, 0)
		if cold >= uiPageGoal {
			fmt.Printf("  cold: %s, MISSED (goal %s)\n", cold.Round(time.Millisecond), uiPageGoal)
			b.failed = true
		}
	}
	stop()
	return os.RemoveAll(root)
}

// getPage reads one page whole and returns how long it took.
func getPage(ctx context.Context, url string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return time.Since(start), nil
}

// fillRegistry pushes uiRepositories repositories team-NNNN/app, each a small image under uiTagsEach
// version tags, and uiBigTags more tags into team-0500/app, 8 at a time.
func fillRegistry(ctx context.Context, host string) error {
	img, err := random.Image(1024, 1)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range uiRepositories {
		g.Go(func() error {
			repo, err := name.NewRepository(fmt.Sprintf("%s/team-%04d/app", host, i))
			if err != nil {
				return err
			}
			tags := uiTagsEach
			if i == 500 {
				tags += uiBigTags
			}
			for t := range tags {
				if err := remote.Write(repo.Tag(fmt.Sprintf("1.%d.0", t)), img, remote.WithContext(gctx)); err != nil {
					return fmt.Errorf("pushing %s: %w", repo, err)
				}
			}
			return nil
		})
	}
	return g.Wait()
}
