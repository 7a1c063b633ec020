# Plexus build, test and demo entry points. `make test` is what CI runs.

GO          ?= go
BIN         := $(CURDIR)/bin
STATICCHECK := $(BIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
FUZZTIME    ?= 10s
PKGS        := ./...
# Compile flags of bin/plexus and of the control plane (scripts/k8s-bin.sh):
# the same flags let the two builds share the packages they both link.
BUILDFLAGS  := -trimpath -gcflags=all=-dwarf=false
export BUILDFLAGS

CORPUS      ?= testdata/polyaxonfiles

.PHONY: ui ui-deps ui-check test-ui all build test unit unit-local unit-cluster fuzz lint fmt-check vet staticcheck demo e2e k8s-bin chaos conformance bench bench-engine bench-dag bench-sweep bench-fires bench-k8s bench-peer argo-bin clean

all: build

build:
	$(GO) build $(BUILDFLAGS) -o $(BIN)/plexus ./cmd/plexus

## test: everything CI checks: lint, unit tests with the race detector, short fuzzing.
## The tests that run a real control plane (packages importing e2e/cluster) need
## k8s-bin: it is built in the background while lint, the other tests and the
## fuzzing run, and those tests run once it is there. Nothing is read from
## outside the checkout (testdata/ holds the corpus; .ci/run proves it).
test:
	@log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	GO=$(GO) setsid ./scripts/k8s-bin.sh >$$log 2>&1 & bin=$$!; \
	if ! $(MAKE) --no-print-directory lint unit-local test-ui fuzz; then \
		kill -- -$$bin 2>/dev/null; wait $$bin; exit 1; \
	fi; \
	if ! wait $$bin; then cat $$log; echo "k8s-bin failed" >&2; exit 1; fi; \
	tail -n1 $$log; \
	$(MAKE) --no-print-directory unit-cluster

# The packages whose tests start a control plane, and the others.
cluster_pkgs = $$($(GO) list -f '{{.ImportPath}} {{.Imports}} {{.TestImports}} {{.XTestImports}}' $(PKGS) | awk '/plexus\/e2e\/cluster[] ]/ { print $$1 }')
local_pkgs = $$($(GO) list -f '{{.ImportPath}} {{.Imports}} {{.TestImports}} {{.XTestImports}}' $(PKGS) | awk '!/plexus\/e2e\/cluster[] ]/ && $$1 !~ /\/e2e\/ui$$/ { print $$1 }')

unit: unit-local unit-cluster

unit-local:
	$(GO) test -race -count=1 $(local_pkgs)

unit-cluster: k8s-bin
	$(GO) test -race -count=1 $(cluster_pkgs)

# Short fuzzing of the parser, of value coercion, of compiling, of
# rendering templates in the sandbox and of the API's request decoders
# (a submission's body, a listing's query). A new input is minimised
# for at most a second, so the time goes to finding inputs, not shrinking them.
fuzz:
	$(GO) test ./specs -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
	$(GO) test ./specs -run '^$$' -fuzz '^FuzzCoerceValue$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
	$(GO) test ./specs -run '^$$' -fuzz '^FuzzParseSpace$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
	$(GO) test ./specs/compiler -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
	$(GO) test ./specs/compiler -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
	$(GO) test ./engine/api -run '^$$' -fuzz '^FuzzDecodeSubmission$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
	$(GO) test ./engine/api -run '^$$' -fuzz '^FuzzListOptions$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# vet and staticcheck type-check against the race build of the packages, the
# one the tests compile: a cold run compiles the dependencies once, not twice.
vet:
	$(GO) vet -race $(PKGS)

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	GOFLAGS="$(GOFLAGS) -race" $(STATICCHECK) $(PKGS)

## demo: the main job on the embedded default: the training example runs to
## its end in an in-process engine (embedded etcd, local executor, state
## under PLEXUS_HOME, default ~/.plexus); every example is checked, the
## training job is compiled into the Kubernetes Job it would be, the grid
## sweep runs its eight trials and the bayes sweep its 35.
demo: build
	$(BIN)/plexus check $(addprefix -f ,$(wildcard examples/*.yaml))
	$(BIN)/plexus compile -f examples/train.yaml -P lr=0.05 > /dev/null
	$(BIN)/plexus run -f examples/train.yaml -P lr=0.05
	$(BIN)/plexus run -f examples/sweep.yaml
	$(BIN)/plexus run -f examples/bayes.yaml
	$(BIN)/plexus run -f examples/every-2s.yaml

## ui: the web page (ui/dist, embedded by package ui and committed) built
## from its sources in ui/web: TypeScript and Preact, bundled by esbuild.
ui: ui-deps
	cd ui/web && npm run --silent check && npm run --silent build

ui-deps:
	@./scripts/ui-deps.sh

## ui-check: the committed ui/dist is what its sources build to.
ui-check: ui-deps
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	(cd ui/web && npm run --silent check && UI_OUT=$$tmp npm run --silent build) && \
	if ! diff -r $$tmp ui/dist >/dev/null; then diff -r $$tmp ui/dist | head -20; \
		echo "ui/dist is not what ui/web builds to: run make ui and commit it" >&2; exit 1; fi

## test-ui: the page in Debian's chromium, driven by Playwright, against a
## real server on the local executor (e2e/ui): login, runs, a dag's nodes,
## stop from the page, a sweep's plots, screenshots checked not blank, and
## the 10,000-node dag and 100,000-node summary timings printed.
## UI_OUT=DIR keeps the screenshots there.
test-ui: ui-check
	PLEXUS_UI_REQUIRED=1 $(GO) test -count=1 -timeout 15m -v -run '^TestBrowser$$' ./e2e/ui $(if $(UI_OUT),-args -ui.out=$(abspath $(UI_OUT)))

## e2e: end-to-end tests; e2e/cluster runs a real control plane (k8s-bin).
e2e: k8s-bin
	$(GO) test -count=1 ./e2e/...

## k8s-bin: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
## kwok at the versions in tools/go.mod, built once into
## $PLEXUS_K8S_BIN or .cache/k8s/<versions>/ (cold ~15 min, 3.2 GB; warm: instant).
k8s-bin:
	@dir=$$(GO=$(GO) ./scripts/k8s-bin.sh) && echo "k8s-bin: $$dir"

## chaos: the full chaos schedule of e2e/chaos on a real control plane:
## 3 servers on an etcd of 3 members, 50 leader kills, leader pauses, etcd
## member restarts and API server faults through a proxy; then the whole
## history is checked and the counts printed (SEED=N repeats a schedule).
## `make test` runs a short schedule.
chaos: k8s-bin
	$(GO) test -count=1 -timeout 30m -run '^TestChaos$$' -v ./e2e/chaos -args -chaos.full $(if $(SEED),-chaos.seed=$(SEED))

## conformance: check every Polyaxonfile of CORPUS (default: our own,
## testdata/polyaxonfiles) against its verdict -- in-file `# expect:` headers,
## or an INDEX.md table as in a corpus of real-world files with the reference
## implementation's verdicts -- and print `N/M agree`. Not part of `make test`.
conformance:
	@$(GO) test -c -o $(BIN)/conformance.test ./cmd/plexus
	@$(BIN)/conformance.test -test.run '^TestConformance$$' -corpus $(abspath $(CORPUS))

bench:
	$(GO) test ./specs ./specs/compiler -run '^$$' -bench . -benchmem -cpu 1

## bench-engine: the engine on embedded etcd: runs/s, overhead, memory, raw etcd rate.
bench-engine:
	$(GO) run ./e2e/bench/engine -n 10000

## bench-dag: one large dag on the engine and embedded etcd: a chain of 1,000
## operations (the engine's own step), a layered dag of 10,000 whose
## operations take no time (saturated), then take 0-200 ms (not), and a
## fan-out/fan-in of 100,002 (minutes): nodes/s, the overhead of each step
## from an upstream's end to dispatch, memory.
bench-dag:
	$(GO) run ./e2e/bench/dag -shape chain -n 1000
	$(GO) run ./e2e/bench/dag -shape layered -n 10000
	$(GO) run ./e2e/bench/dag -shape layered -n 10000 -op-time 100ms
	$(GO) run ./e2e/bench/dag -shape fan -n 100000

## bench-sweep: one matrix run on the engine and embedded etcd: a grid of
## 100,000 points whose trials take no time (time to the end, trials/s, peak
## RSS; it checks every trial ran and succeeded), then the engine's step from
## a trial's end to the next trial's creation in a random matrix of
## concurrency 1 and at the rungs of a hyperband, trials taking 0-40 ms.
bench-sweep:
	$(GO) run ./e2e/bench/sweep -shape grid -n 100000
	$(GO) run ./e2e/bench/sweep -shape chain -n 200 -op-time 20ms -repeat 3
	$(GO) run ./e2e/bench/sweep -shape hyperband -max-iter 81 -op-time 20ms -repeat 3

## bench-fires: schedules on the engine and embedded etcd: 100 interval
## schedules of frequency 1s and 10 fires each, all due at the same
## seconds, whose fires take no time: how late each fire is decided and
## committed after its nominal time (p50, p90, p99, max; the target, p99 at
## most 100 ms, printed with whether it was met), CPU and peak RSS; it
## checks every fire came once, none missing nor a frequency late.
bench-fires:
	$(GO) run ./e2e/bench/fires -repeat 3

## bench-k8s: the engine with the k8s executor on a real control plane
## (k8s-bin): Jobs dispatched/s against a raw client-go loop at the same limits.
bench-k8s: k8s-bin
	$(GO) run ./e2e/bench/k8s -n 1000

## bench-peer: Plexus and Argo Workflows side by side on one control plane
## (k8s-bin, argo-bin): one run, a throughput of 500, a 20-step chain, a
## 1,000-way fan-out; times, rates, CPU and peak RSS of each controller.
bench-peer: k8s-bin argo-bin
	$(GO) run ./e2e/bench/peer -argo-dir $$(GO=$(GO) ./scripts/argo-bin.sh)

## argo-bin: Argo Workflows' workflow-controller at the version of
## tools/argo/go.mod, and its CRDs, into .cache/argo/<version>/ (cold ~9 min).
argo-bin:
	@dir=$$(GO=$(GO) ./scripts/argo-bin.sh) && echo "argo-bin: $$dir"

## bench-apimem: what submissions cost the API server in memory, and that its
## limits bound it (docs/limits.md, "API"): one submission of the largest size
## of the densest YAML, then sixteen at once of it and of env entries.
bench-apimem:
	$(GO) run ./e2e/bench/apimem -n 1 -size 1.9 -pad args
	$(GO) run ./e2e/bench/apimem -n 16 -size 1.9 -pad args
	$(GO) run ./e2e/bench/apimem -n 16 -size 1.9 -pad env

clean:
	rm -rf $(BIN)
