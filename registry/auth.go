package registry

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// staticKeychain is the credentials of the command line or environment, for every registry.
type staticKeychain struct{ username, password string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	if k.username == "" && k.password == "" {
		return authn.Anonymous, nil
	}
	return &authn.Basic{Username: k.username, Password: k.password}, nil
}

// dockerKeychain reads Docker's config.json in dir (default: $DOCKER_CONFIG, then ~/.docker): auths,
// credsStore and credHelpers, as docker, crane and skopeo do.
type dockerKeychain struct{ dir string }

func (k dockerKeychain) load() (*configfile.ConfigFile, error) {
	cf, err := config.Load(k.dir)
	if err != nil {
		return nil, fmt.Errorf("reading Docker's credentials: %w", err)
	}
	return cf, nil
}

func (k dockerKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	cf, err := k.load()
	if err != nil {
		return nil, err
	}
	var empty types.AuthConfig
	for _, key := range []string{target.String(), target.RegistryStr()} {
		if key == name.DefaultRegistry {
			key = authn.DefaultAuthKey
		}
		cfg, err := cf.GetAuthConfig(key)
		if err != nil {
			return nil, fmt.Errorf("reading the credentials of %s: %w", key, err)
		}
		cfg.ServerAddress = ""
		if cfg != empty {
			return authn.FromConfig(authn.AuthConfig{Username: cfg.Username, Password: cfg.Password, Auth: cfg.Auth,
				IdentityToken: cfg.IdentityToken, RegistryToken: cfg.RegistryToken}), nil
		}
	}
	return authn.Anonymous, nil
}

// DockerConfigDir is the directory of Docker's config.json: $DOCKER_CONFIG, else ~/.docker.
func DockerConfigDir(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".docker")
	}
	return ""
}

// Login stores credentials for registry the way `docker login` does: in the credential helper or store
// config.json names, else in config.json itself. It returns the file written.
func Login(dockerConfig, registry, username, password string) (string, error) {
	reg, err := name.NewRegistry(registry)
	if err != nil {
		return "", &InputError{Subject: "registry", Err: fmt.Errorf("%q is not a registry host: %w", registry, err)}
	}
	k := dockerKeychain{dir: dockerConfig}
	cf, err := k.load()
	if err != nil {
		return "", err
	}
	addr := serverAddress(reg)
	if err := cf.GetCredentialsStore(addr).Store(types.AuthConfig{ServerAddress: addr, Username: username, Password: password}); err != nil {
		return "", fmt.Errorf("storing the credentials of %s: %w", addr, err)
	}
	if err := cf.Save(); err != nil {
		return "", fmt.Errorf("writing %s: %w", cf.Filename, err)
	}
	return cf.Filename, nil
}

// Logout removes the credentials of registry; it is not an error when there were none.
func Logout(dockerConfig, registry string) (string, error) {
	reg, err := name.NewRegistry(registry)
	if err != nil {
		return "", &InputError{Subject: "registry", Err: fmt.Errorf("%q is not a registry host: %w", registry, err)}
	}
	cf, err := dockerKeychain{dir: dockerConfig}.load()
	if err != nil {
		return "", err
	}
	addr := serverAddress(reg)
	if err := cf.GetCredentialsStore(addr).Erase(addr); err != nil {
		return "", fmt.Errorf("removing the credentials of %s: %w", addr, err)
	}
	if err := cf.Save(); err != nil {
		return "", fmt.Errorf("writing %s: %w", cf.Filename, err)
	}
	return cf.Filename, nil
}

func serverAddress(reg name.Registry) string {
	if reg.Name() == name.DefaultRegistry {
		return authn.DefaultAuthKey
	}
	return reg.Name()
}

// isAuthError reports whether a registry refused the credentials.
func isAuthError(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden {
		return true
	}
	for _, d := range terr.Errors {
		if d.Code == transport.UnauthorizedErrorCode || d.Code == transport.DeniedErrorCode {
			return true
		}
	}
	return false
}
