# shipyard's developer commands. `make test` is the test command CI runs (.ci/run).
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
MODULES     := . examples/hello
VERSION     ?= $(shell $(GO) run ./cmd/shipyard version describe 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE        ?= $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS     := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: build test lint bench demo docs

build: ## the shipyard binary in bin/, with version, commit and date; static, as build.migrations puts it in images
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/shipyard ./cmd/shipyard

test: ## every test of every module; a failing module does not stop the others; what tests save for people (the UI's screenshots) goes to .test-output/
	@mkdir -p $(CURDIR)/.test-output; failed=""; for m in $(MODULES); do echo "== go test $$m"; (cd $$m && $(GO) test -race -count=1 -timeout 20m -artifacts -outputdir $(CURDIR)/.test-output ./...) || failed="$$failed $$m"; done; \
	if [ -n "$$failed" ]; then echo "FAIL: the tests failed in:$$failed"; exit 1; fi

lint: ## gofmt, go vet and staticcheck on every module
	@unformatted=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@failed=""; for m in $(MODULES); do echo "== vet and staticcheck $$m"; (cd $$m && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...) || failed="$$failed $$m"; done; \
	if [ -n "$$failed" ]; then echo "FAIL: lint failed in:$$failed"; exit 1; fi

bench: ## each capability beside its peer tool, with ratios
	$(GO) run ./bench

demo: ## the main job on the embedded defaults, on a fresh copy of examples/hello
	./scripts/demo

docs: ## regenerate the CLI reference in docs/cli
	$(GO) test ./cmd/shipyard/cmd -run TestCLIReference -update-docs
