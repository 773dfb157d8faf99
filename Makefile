# zk_monitor — the two commands a newcomer needs:
#   make demo   builds and runs an agent against a local ZooKeeper + Alertmanager
#   make test   installs what is missing and runs every test with -race
GO        ?= go
BIN       ?= zk_monitor
PKG       := github.com/zk-monitor/zk_monitor
VERSION   ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILDUSER ?= $(shell id -un 2>/dev/null)@$(shell hostname 2>/dev/null)
BUILDDATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
LDFLAGS   := -X github.com/prometheus/common/version.Version=$(VERSION) \
             -X github.com/prometheus/common/version.Revision=$(REVISION) \
             -X github.com/prometheus/common/version.Branch=$(BRANCH) \
             -X github.com/prometheus/common/version.BuildUser=$(BUILDUSER) \
             -X github.com/prometheus/common/version.BuildDate=$(BUILDDATE)
GOOS      ?= $(shell $(GO) env GOOS)
GOARCH    ?= $(shell $(GO) env GOARCH)
TEST_TIMEOUT ?= 20m
FUZZTIME  ?= 10s

.PHONY: all build deps test test-unit test-fuzz test-faults bench demo vet fmt lint clean

all: vet build test

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .
	mkdir -p .build/$(GOOS)-$(GOARCH) && cp $(BIN) .build/$(GOOS)-$(GOARCH)/$(BIN)

# deps installs what the tests and the demo need on a fresh Debian machine.
deps:
	./scripts/install-deps.sh

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# test: everything, against real ZooKeeper, Alertmanager, promtool and amtool.
test: deps fmt vet
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(MAKE) test-fuzz

# test-unit: the tests that need nothing but Go; those that need a real
# server or an outside program skip under -short.
test-unit:
	$(GO) test -race -count=1 -short ./...

# Short fuzz runs of the parsers of outside input; the corpora live in
# testdata/fuzz and also run as plain tests.
test-fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./config
	$(GO) test -run='^$$' -fuzz='^FuzzEvaluateData$$' -fuzztime=$(FUZZTIME) ./compliance

# test-faults: the fault-injection suite, the secrets test and the fuzzers
# of outside input (all also part of make test).
test-faults: deps
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) -run 'Fault|Secret|Hostile' -v ./...
	$(MAKE) test-fuzz

bench: deps build
	./scripts/bench.sh

demo: deps build
	./scripts/demo.sh

clean:
	rm -rf $(BIN) .build .demo
