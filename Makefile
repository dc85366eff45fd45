# The two commands a teacher needs: `make demo` and `make test`. Both build the virtual
# environment in .venv on first use (and again when pyproject.toml changes).
# `make test-fast` runs the quick tests only (no training, no real grading): under 2 minutes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# nbgrader starts `alembic` and the kernel from PATH, so the environment's bin comes first.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: demo test test-fast lint install clean messages

demo: $(STAMP)
	$(BIN)/course demo

# Two processes (pytest-xdist; tests/conftest.py says which files share one): 20 to 33
# minutes on two cores, with the machine's speed. TEST_PROCESSES=0 runs one,
# TEST_PROCESSES=4 four.
TEST_PROCESSES ?= 2
PARALLEL := $(if $(filter-out 0,$(TEST_PROCESSES)),-n $(TEST_PROCESSES))

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PARALLEL)

# The quick tests grade nothing: two processes always.
test-fast: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check course_lib tests scripts benchmarks nbgrader_config.py

# The checks' messages in other languages: collect the English ones from the code, add
# new ones to each catalogue for the translators, and compile what they translated. Two
# catalogues, each next to its code: the students' library's (course_lib/lesson/locale/
# */LC_MESSAGES/course_lib.po, shipped to students) and the grader's own (course_lib/
# autograder/locale/*/LC_MESSAGES/course_grader.po, never shipped to students).
CATALOGUES := course_lib/lesson:course_lib course_lib/autograder:course_grader
messages: $(STAMP)
	set -e; for catalogue in $(CATALOGUES); do \
		package=$${catalogue%%:*}; domain=$${catalogue##*:}; locale=$$package/locale; \
		$(BIN)/pybabel extract --no-location --omit-header --sort-output --project=$$domain \
			--version=1 --msgid-bugs-address="the course's issue tracker" \
			-o $$locale/$$domain.pot $$package; \
		$(BIN)/pybabel update --previous --ignore-obsolete -i $$locale/$$domain.pot \
			-d $$locale -D $$domain; \
		$(BIN)/pybabel compile --statistics -d $$locale -D $$domain; \
		rm $$locale/$$domain.pot; \
	done

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
