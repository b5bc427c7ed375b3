# Waldur (Go) — `make help` lists the targets.
SHELL := /bin/bash
# Pure Go everywhere (the SQLite driver needs no cgo); one build cache for build and test.
export CGO_ENABLED := 0

BIN        := bin/waldur
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS    := -s -w -X github.com/waldur-go/waldur/internal/version.Version=$(VERSION)
GO_TEST    ?= go test -p 2 -timeout 15m
SWAG       := go tool swag init -g api/server.go -o api/docs --outputTypes go,json,yaml --parseDependency=false --quiet

.PHONY: help run build test test-sqlite bench lint docs docs-check migrate-up migrate-down migrate-status clean

help: ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

build: ## Build bin/waldur (pure Go)
	go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/waldur

run: build ## Run everything in one process with embedded Temporal + SQLite under ./data
	./$(BIN) serve

# The tests' backing services are set up where this machine allows it
# (scripts/test-deps.sh: PostgreSQL, Slurm, bubblewrap, moto); the output is
# plain go test's, then every skipped test with its reason.
TEST_RUN    = source scripts/test-deps.sh && go build -o bin/testsummary ./internal/tools/testsummary && \
	$(GO_TEST) -json ./... | bin/testsummary

test: ## Set up what the tests use (PostgreSQL, Slurm, bubblewrap, moto) where it can, run all tests, list what was skipped and why
	@set -o pipefail; $(TEST_RUN)

test-sqlite: ## As test, on SQLite only
	@set -o pipefail; export WALDUR_TEST_DATABASE_URL=; $(TEST_RUN)

bench: build ## Print time-to-healthy and idle RSS of `waldur serve`, then the Go benchmarks
	go build -o bin/httpload ./internal/tools/httpload
	./scripts/bench-serve.sh $(BIN) bin/httpload
	go test -run '^$$' -bench '^Benchmark(EmptyWorkflow|PingWorkflow)$$' -benchtime 500x -count 2 ./workflows/
	go test -run '^$$' -bench OrdersVsEmpty -benchtime 300x ./workflows/
	go test -run '^$$' -bench AWSInstanceOrder -benchtime 30x ./providers/aws/
	# 50 concurrent OpenStack instance orders through the API on the emulator: wall time, activities per order
	go test -run '^$$' -bench InstanceOrders -benchtime 2x ./providers/openstack/
	go test -run '^$$' -bench 'ProjectsList|OrdersList' -benchtime 300x ./internal/app/
	# 1,000 site agents polling their orders and resources once a minute while consumers place 100 orders a minute (WALDUR_BENCH_FLEET_SECONDS, default 60)
	go test -run '^$$' -bench SiteAgentFleet -benchtime 1x -timeout 20m ./internal/app/
	# One trivial Script run: a plain process next to the bubblewrap sandbox without, with the host's and with its own network
	go test -run '^$$' -bench ScriptRun -benchtime 50x ./providers/script/
	# Monthly close of 100k resources on PostgreSQL (skipped without WALDUR_TEST_DATABASE_URL; WALDUR_BENCH_RESOURCES=N to resize)
	go test -run '^$$' -bench CloseMonth -benchtime 1x -timeout 30m ./workflows/
	# Statistics endpoints on 100k resources and 1M usage rows on PostgreSQL, each next to its raw SQL (WALDUR_BENCH_STATS_RESOURCES=N to resize)
	go test -run '^$$' -bench Stats -benchtime 5x -timeout 30m ./api/stats/

lint: ## gofmt, go vet and Temporal's workflowcheck
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go tool workflowcheck ./...

docs: ## Regenerate the OpenAPI spec (api/docs) from the swag annotations
	$(SWAG)

docs-check: ## Fail when the committed OpenAPI spec is stale
	$(SWAG)
	@git diff --exit-code --stat -- api/docs || { echo "api/docs is stale: run 'make docs' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- api/docs)" || { echo "api/docs has untracked files: run 'make docs' and commit"; exit 1; }

migrate-up: build ## Apply pending migrations to the configured database
	./$(BIN) migrate up

migrate-down: build ## Roll back the newest migration
	./$(BIN) migrate down

migrate-status: build ## List migrations
	./$(BIN) migrate status

clean: ## Remove the binary (not ./data)
	rm -rf bin
