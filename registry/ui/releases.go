package ui

import (
	"context"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/shipyardci/shipyard/release"
)

// environment is one environment's releases in a repository, newest first.
type environment struct {
	Env     string
	Records []release.Record
	Damaged []*release.DamagedError
}

// Current is the environment's release now: its newest.
func (e environment) Current() *release.Record {
	if len(e.Records) == 0 {
		return nil
	}
	return &e.Records[0]
}

// store is the release store of repo, read through the API as the page's user.
func (a api) store(repo string) (release.RegistryStore, error) {
	r, err := name.NewRepository(registryHost(a.host)+"/"+repo, name.Insecure)
	if err != nil {
		return release.RegistryStore{}, err
	}
	return release.RegistryStore{Repository: r, Options: func(ctx context.Context) []remote.Option {
		return []remote.Option{remote.WithContext(ctx), remote.WithTransport(a)}
	}}, nil
}

// registryHost is the host a browser named, when go-containerregistry takes it as a registry's name.
func registryHost(host string) string {
	if _, err := name.NewRegistry(host, name.Insecure); err != nil || host == "" {
		return "localhost"
	}
	return host
}

// releases reads the releases of every environment of repo, verified as `shipyard release list` reads them.
func (a api) releases(ctx context.Context, repo string) ([]environment, error) {
	s, err := a.store(repo)
	if err != nil {
		return nil, err
	}
	envs, err := s.Environments(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]environment, len(envs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, env := range envs {
		g.Go(func() error {
			l, err := s.List(gctx, env)
			if err != nil {
				return err
			}
			out[i] = environment{Env: env, Records: l.Records, Damaged: l.Damaged}
			return nil
		})
	}
	return out, g.Wait()
}

// usedBy is what the environments' releases say of a digest.
type usedBy struct {
	Env     string
	Name    string
	Number  int
	Current bool
}

// uses lists the releases of envs that name digest, the current ones first.
func uses(envs []environment, digest string) []usedBy {
	var out []usedBy
	for _, e := range envs {
		for i, r := range e.Records {
			if r.Digest == digest {
				out = append(out, usedBy{Env: e.Env, Name: r.Name, Number: r.Number, Current: i == 0})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b usedBy) int {
		if a.Current != b.Current {
			if a.Current {
				return -1
			}
			return 1
		}
		return 0
	})
	return out
}
