# The two commands a fresh machine needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= build/run
KEY_FILE ?= build/dev.key

.PHONY: run test venv bench bench-tickets lint clean samples browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

$(KEY_FILE): | $(STAMP)
	@mkdir -p $(dir $(KEY_FILE))
	@$(BIN)/prepkit keygen $(KEY_FILE)
	@echo "(a local development key; use your own key file for real data)"

QUERY ?= how do I report a phishing email?

run: $(STAMP) $(KEY_FILE)
	PREPKIT_KEY_FILE=$(KEY_FILE) $(BIN)/prepkit run --policy policies/default.yaml --input samples/ --out $(OUT)
	@echo
	@echo "Query the encrypted RAG store as the 'support' role (it sees only chunks its labels allow):"
	@echo '  PREPKIT_KEY_FILE=$(KEY_FILE) $(BIN)/prepkit rag query $(OUT) "$(QUERY)" --role support'
	@PREPKIT_KEY_FILE=$(KEY_FILE) $(BIN)/prepkit rag query $(OUT) "$(QUERY)" --role support -k 3

# The browser tests of `prepkit review` drive Debian's headless chromium through chromium-driver. Installed here
# when missing (CI runs as root; elsewhere through sudo); quiet, and a no-op once both are there.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "installing chromium and chromium-driver for the browser tests"; \
	  $(SUDO) apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check prepkit tests
	$(BIN)/mypy prepkit

# the issue-16 matrix: every corpus shape at 0.5 and 10 MB, vanilla vs prepkit's defaults -> bench/MATRIX.md
bench: $(STAMP)
	$(BIN)/python -m bench.matrix

# the first benchmark (Faker tickets at 0.5/10/100 MB, worker counts) -> bench/RESULTS.md
bench-tickets: $(STAMP)
	$(BIN)/python -m bench.run

samples: $(STAMP)
	$(BIN)/python scripts/make_samples.py

clean:
	rm -rf build
