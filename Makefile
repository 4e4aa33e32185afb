# Two commands a person needs: `make run` and `make test`. Everything installs from this repository.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

# Tests run on the local PostgreSQL and Redis unless told otherwise.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/cram)
TEST_BROKER_URL ?= $(or $(CELERY_BROKER_URL),redis://127.0.0.1:6379/0)

.PHONY: run test install install-test chromium pdf-libs worker beat

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# XStatic-Bootstrap ships only an sdist whose setup.py needs pkg_resources, so the venv
# gets setuptools<81 first and packages build against it.
$(STAMP): pyproject.toml | $(PY)
	$(BIN)/pip install --quiet "setuptools<81" wheel
	$(BIN)/pip install --quiet --no-build-isolation -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet --no-build-isolation -e ".[test]"
	touch $@

install: $(STAMP)
install-test: $(TEST_STAMP)

# Debian's Chromium drives the browser tests; Playwright never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# WeasyPrint (PDF reports) needs Pango from Debian.
pdf-libs:
	@dpkg -s libpango-1.0-0 libpangoft2-1.0-0 >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; }

run: install pdf-libs
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	@# Reminders keep firing without Redis: a scheduler beside the server sweeps every 15 minutes.
	$(PY) manage.py run_scheduler & trap 'kill $$!' EXIT; $(PY) manage.py runserver 127.0.0.1:8000

test: install-test chromium pdf-libs
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(BIN)/pytest $(PYTEST_ARGS)

# PostgreSQL and Redis, as in production: a worker and one beat beside the web server.
worker: install
	$(BIN)/celery -A cram_site worker --loglevel=info

beat: install
	$(BIN)/celery -A cram_site beat --loglevel=info
