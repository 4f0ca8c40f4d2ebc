# napo-tracker: `make run` to try it, `make test` to prove it.
PYTHON ?= python3
VENV ?= .venv
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app napo_tracker
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-fast lint format install install-test system-deps-run system-deps-test system-deps-bench system-deps-scan bench mutation security-scan clean translations translations-extract translations-update translations-compile

# System packages first (the venv module itself may be missing on a fresh machine).
$(VENV)/bin/python: | system-deps-run
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Install, migrate, load the demo data and serve on http://$(HOST):$(PORT) (SQLite in instance/).
run: system-deps-run install instance/data.keys
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) run --host $(HOST) --port $(PORT)

# The development data key (config.py: DevelopmentConfig), made once if missing, readable by
# its owner only; instance/ is git-ignored. Losing it loses the development data.
instance/data.keys: | $(VENV)/.installed
	mkdir -p instance
	umask 077 && $(VENV)/bin/python -m napo_tracker.crypto > $@.new && mv $@.new $@

# axe-core for the browser tests' accessibility check, from npm at the version in its lock file.
AXE := tests/a11y/node_modules/axe-core/axe.min.js
$(AXE): tests/a11y/package.json tests/a11y/package-lock.json | system-deps-test
	npm ci --prefix tests/a11y --no-audit --no-fund --silent
	touch $@

## Lint and type checks first, then the whole suite (both databases, browser journeys included).
test: system-deps-test install-test $(AXE) lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## The inner loop: SQLite only, no browser (lint not included: run `make lint` before committing).
test-fast: system-deps-run install-test
	NAPO_TEST_BACKENDS=sqlite $(VENV)/bin/pytest -m "not browser" $(PYTEST_ARGS)

## ruff (lint and format), mypy, and the import contracts (no circles, layers that hold).
lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

## Rewrite the code the way `make lint` wants it formatted, and apply ruff's safe fixes.
format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Translations (napo_tracker/i18n.py). The compiled .mo files are committed, so a clean
# checkout serves Welsh without a build step; tests/test_i18n.py fails when one is stale.
TRANSLATIONS := napo_tracker/translations
PYBABEL := $(VENV)/bin/pybabel

## Extract the strings to translate, merge them into each language's .po, compile the .mo files.
translations: translations-update translations-compile

translations-extract: install
	$(PYBABEL) extract -F babel.cfg --ignore-dirs '.* __pycache__' -k lazy_gettext -k _l -k N_ --no-location --sort-output \
		--project napo-tracker -o $(TRANSLATIONS)/messages.pot .

translations-update: translations-extract
	$(PYBABEL) update --no-fuzzy-matching --ignore-obsolete -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

translations-compile: install
	$(PYBABEL) compile --statistics -d $(TRANSLATIONS)

system-deps-run:
	./scripts/system-deps.sh run

system-deps-test:
	./scripts/system-deps.sh test

system-deps-bench:
	./scripts/system-deps.sh bench

system-deps-scan:
	./scripts/system-deps.sh scan

## Benchmarks: figures are recorded in docs/performance.md.
bench: system-deps-bench install-test
	$(VENV)/bin/python -m benchmarks.run_all

# The code mutation testing covers: whole modules, and the functions of consent and small-number
# suppression inside larger ones (docs/security.md has the figures).
MUTANTS ?= 'napo_tracker.security.x_require_login_unless_public*' 'napo_tracker.security.x_is_safe_redirect*' 'napo_tracker.security.x_safe_next*' \
	'napo_tracker.regions.scoping.*' 'napo_tracker.csvexport.*' 'napo_tracker.pdf.x__safe_url_fetcher_class*' 'napo_tracker.evidence.importer.*' \
	'napo_tracker.testimonies.models.xǁTestimonyǁ*' 'napo_tracker.testimonies.services.x_quotable_testimonies*' \
	'napo_tracker.evidence.services.x_is_small_number*' 'napo_tracker.evidence.services.x_people_at_risk*' \
	'napo_tracker.evidence.services.x_reveals_fewer_than_three*' 'napo_tracker.evidence.services.x_effective_reporters*' \
	'napo_tracker.evidence.services.x_may_see_exact*' 'napo_tracker.evidence.services.x_is_withheld_from*' \
	'napo_tracker.evidence.services.x_shown_value*' 'napo_tracker.evidence.services.x__small_parts_sql*' \
	'napo_tracker.evidence.services.x__group_people_at_risk*' 'napo_tracker.evidence.services.xǁGroupǁ*' \
	'napo_tracker.evidence.services.x_export_rows*'

## Mutation testing of the security rules with mutmut (SQLite; long: see docs/security.md). Not part of `make test`.
mutation: install-test
	$(VENV)/bin/python scripts/mutation-score.py --pending $(MUTANTS) | NAPO_TEST_BACKENDS=sqlite \
		NAPO_TEST_CACHE_DIR=$(CURDIR)/mutants/.napo-cache xargs -r -d '\n' $(VENV)/bin/mutmut run
	$(VENV)/bin/python scripts/mutation-score.py $(MUTANTS)
	NAPO_TEST_BACKENDS=sqlite $(VENV)/bin/python scripts/hand-mutants.py

## Attack the app with wapiti and sqlmap as a signed-in demo rep (about 20 minutes); reports in security-scan/.
security-scan: system-deps-scan install
	VENV=$(VENV) ./scripts/security-scan.sh

clean:
	rm -rf $(VENV) tests/artifacts .pytest_cache benchmarks/results mutants
