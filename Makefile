# The README's two quick-start commands: `make demo` and `make test`.
# Each works on a fresh machine: it creates .venv/, installs everything (redis-server and openssl
# from Debian included), starts what it needs and stops what it started.

VENV := .venv
BIN := $(VENV)/bin
# Debian packages: Redis for the tests and the demo; openssl for the tests' TLS Redis (`cli.dev_tls`);
# g++ for torch.compile's CPU kernels (`RANKSTREAM_COMPILE`, and the engine's tests of it).
APT := redis-server openssl g++
# torch first, pinned: the CPU build on local disk; an unpinned torch would pull several GB of CUDA.
TORCH := torch==2.13.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_VERBOSITY := error

.PHONY: demo test install lint bench model clean

# The default model (Gemma 3 270M trained on O*NET relevance, five eighths of its MLP neurons
# pruned by OSSCAR, distilled from the unpruned teacher kept beside it): built once, 25-30 min
# on the slower 2-core machines.
MODEL := .rankstream/models/default

demo: install $(MODEL)/rankstream.json
	$(BIN)/rankstream demo

$(MODEL)/rankstream.json: | install
	$(BIN)/rankstream model build

test: install
	$(BIN)/pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@{ command -v redis-server && command -v openssl && command -v g++; } >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q $(APT) >/dev/null || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(APT); }; }
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

model: install
	$(BIN)/rankstream model build

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench.scorer
	$(BIN)/python -m bench.compression

clean:
	-$(BIN)/rankstream dev down
	rm -rf $(VENV) .rankstream
