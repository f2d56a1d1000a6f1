# Entry points for developers and CI. `make test` needs no cluster of your own: it starts
# the test control plane (hack/cluster/up.sh) and leaves it running for the next run;
# `make cluster-down` stops it.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:

# tests/cluster_*.rs need the test control plane; the other test files (and the engine
# crates' own tests) do not.
FAST_TESTS := $(filter-out cluster_%,$(basename $(notdir $(wildcard tests/*.rs crates/*/tests/*.rs))))
# Recipe lines: the pinned helm (and helmfile) first on PATH, and docker-registry for the
# OCI chart tests, installed once by hack/tools.sh; the test cluster's kubeconfig, started
# or reused by up.sh.
USE_HELM = helm_bin=$$(hack/tools.sh helm3 helmfile registry); export PATH="$$helm_bin:$$PATH"
USE_CLUSTER = kubeconfig=$$(hack/cluster/up.sh | sed -n 's/^export KUBECONFIG=//p')

.PHONY: build test-unit test cluster cluster-down lint demo bench bench-clusters

build:
	cargo build --workspace

test-unit:
	$(USE_HELM)
	cargo test --workspace --lib --bins $(addprefix --test ,$(FAST_TESTS))

test:
	$(USE_HELM)
	$(USE_CLUSTER)
	ORCH_TEST_KUBECONFIG="$$kubeconfig" cargo test --workspace

cluster:
	hack/cluster/up.sh

cluster-down:
	hack/cluster/down.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# The README's main job: the example system synced to the local control plane, then its status.
demo:
	$(USE_HELM)
	$(USE_CLUSTER)
	cargo build -q --bin orch
	KUBECONFIG="$$kubeconfig" target/debug/orch sync -e staging
	KUBECONFIG="$$kubeconfig" target/debug/orch status -e staging
	echo "The system runs on the local control plane: export KUBECONFIG=$$kubeconfig"

# orch beside helmfile and helm, in one run, on the local control plane (hack/bench/bench.py);
# BENCH_ARGS="--sizes 10,100 --json" and the like pass through.
bench:
	$(USE_HELM)
	$(USE_CLUSTER)
	cargo build --release -q -p orch -p orch-ssa-limit
	python3 hack/bench/bench.py --kubeconfig "$$kubeconfig" $(BENCH_ARGS)

# One run across 2 and 3 control planes of its own, against the same releases on one
# (hack/bench/clusters.py); BENCH_ARGS="--releases 60" and the like pass through.
bench-clusters:
	cargo build --release -q -p orch
	python3 hack/bench/clusters.py $(BENCH_ARGS)
