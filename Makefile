# The only way in: `make run` starts the product, `make test` checks everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.10 (Rasa 3.6 supports no newer): .python-version makes pyenv's shim
# resolve python3.10 to 3.10.13; elsewhere any python3.10 on PATH.
PYTHON_BOOT ?= $(firstword $(shell command -v python3.10 2>/dev/null) $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10))
VENV := .venv
PY := $(VENV)/bin/python
MODEL := models/helpdesk.tar.gz
# axe-core (npm), the accessibility engine the browser tests inject: installed once, like the venv.
AXE := tests/web/axe/node_modules/axe-core/axe.min.js
TRAINING_INPUTS := config.yml domain.yml $(shell find data bot/nlu -type f \( -name '*.yml' -o -name '*.txt' -o -name '*.py' \) 2>/dev/null)

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# Some machines set PYTHONDONTWRITEBYTECODE for every shell: then every test worker and every
# server a test starts compiles the project's own modules from source again (pip compiled the rest).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: FORCE help venv train run cluster test test-fast eval bench shell lint clean

help:
	@echo "make run    install (first time), train if data or config changed, start everything"
	@echo "make cluster  the same with 2 Rasa and 2 action server replicas behind nginx, PostgreSQL, Redis"
	@echo "make test   everything CI checks"
	@echo "make test-fast  the inner loop: every test that starts no product, browser or service (no model needed)"
	@echo "make train  train the model if data or config changed"
	@echo "make bench  benchmarks: NLU vs Rasa's default pipeline and BM25, latency, throughput, memory"
	@echo "make eval   NLU figures on the held-out test set (+ reports/confusion_matrix.png)"
	@echo "make shell  talk to the assistant in this terminal"
	@echo "make lint   static checks"
	@echo "make clean  remove the model, logs and local databases (keeps .venv)"

$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON_BOOT)" || { echo "python3.10 not found: install Python 3.10 (pyenv install 3.10.13)"; exit 1; }
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25"
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

$(AXE): tests/web/axe/package-lock.json
	cd tests/web/axe && npm ci --no-audit --no-fund
	touch $@

# The review inbox's labelled items (STAFF_DB_URL) as NLU data, in data/ where `rasa train` reads it
# (git-ignored): the export runs every time and rewrites the file only when its content changes,
# so the model retrains only then.
REVIEWED := data/reviewed/nlu.yml
$(REVIEWED): $(VENV)/.installed FORCE
	$(PY) -m bot.insights export-training-data $@

FORCE:

# Rasa skips the work itself when its fingerprint says nothing changed; the
# touch tells make the model is current as of when training began, so an input
# edited during the minutes of training is newer and trains again next time.
$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS) $(REVIEWED)
	started=$$(date +%s) && $(PY) -m bot.rasa_ext.train --fixed-model-name helpdesk --out models && touch -d @$$started $@

train: $(MODEL)

run: $(MODEL)
	$(PY) -m bot run

# Nothing but settings differs from `make run` (README: Deploying past one machine);
# a value already in the environment wins.
cluster: $(MODEL)
	bash scripts/ensure_services.sh postgres redis nginx
	RASA_REPLICAS=$${RASA_REPLICAS:-2} ACTION_SERVER_REPLICAS=$${ACTION_SERVER_REPLICAS:-2} \
	TRACKER_DB_URL=$${TRACKER_DB_URL:-postgresql://helpdesk@127.0.0.1:5432/helpdesk_tracker} \
	BACKEND_DB_URL=$${BACKEND_DB_URL:-postgresql://helpdesk@127.0.0.1:5432/helpdesk_backend} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(PY) -m bot run

# The tests start Debian's chromium, nginx, PostgreSQL and Redis: brought up (installed if missing) first.
# One xdist worker a core, a file's tests on one worker, the cluster package's on one (tests/conftest.py;
# module and session fixtures start once a worker; ports are free ones, PostgreSQL databases fresh ones, Redis keys prefixed): 2 215 tests in
# 12 min 53 s on 2 cores (2026-12-03); in one process CI took 56 minutes with install and training.
TEST_WORKERS ?= $(shell nproc)
test: $(MODEL) $(AXE)
	bash scripts/ensure_services.sh
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# Everything not marked product, browser, postgres, redis, cluster, model or fuzz (pytest.ini):
# no trained model, no service to bring up. Extra pytest arguments: make test-fast ARGS="-k wechat".
# The files are spread over workers (pytest-xdist), a file's tests on one worker: module fixtures start once.
# Two workers a core: about 40% of these tests' time is waiting on a server they started or a socket
# (1 266 tests on 2 cores: about 2 min with one worker a core, 1 min 45 s, the median, with two).
FAST := not product and not browser and not postgres and not redis and not cluster and not model and not fuzz
WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))
test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -n $(WORKERS) --dist loadfile -m "$(FAST)" $(ARGS)

eval: $(MODEL)
	$(PY) -m bench.evaluation --model $(MODEL)

# Not part of `make test`: it prints figures and never fails on one (35-75 minutes by the hour, most of it
# training the default pipeline; BENCH_ARGS=--reuse-models: about 4-6).
bench: $(VENV)/.installed
	bash scripts/ensure_services.sh postgres redis nginx
	$(PY) -m bench $(BENCH_ARGS)

shell: $(MODEL)
	$(PY) -m bot shell

lint: $(VENV)/.installed
	$(PY) -m pyflakes bot actions tests scripts bench

clean:
	rm -rf models var reports .pytest_cache
