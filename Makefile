# Two entry points, both self-bootstrapping on a machine with only python3.11 and make:
#   make run   - main job on the built-in default scenario
#   make test  - the gates (ruff format and lint, mypy), then the suite with line and branch coverage
#   make lint: the gates alone
# uv (pinned) is installed into .venv-uv by pip, then installs exactly what uv.lock pins into .venv.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .venv-uv/bin/uv
SCENARIO ?= scenarios/tigris.yaml

export UV_PROJECT_ENVIRONMENT := .venv
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint sync lock clean

run: sync
	.venv/bin/fabnet run $(SCENARIO)

# The suite under coverage, one worker process per core (pytest-xdist; a test file stays on one
# worker, so its module fixtures are made once): the table of files not fully covered, then
# lines and branches apart. Tracing costs the suite 70 %; the second core wins it back.
test: sync lint
	.venv/bin/python -m pytest -n auto --dist loadfile --cov --cov-report=term --cov-report=json:.coverage.json $(PYTEST_ARGS)
	@.venv/bin/python tools/coverage_summary.py .coverage.json

lint: sync
	.venv/bin/ruff format --check --quiet src tests benchmarks tools examples
	.venv/bin/ruff check --quiet src tests benchmarks tools examples
	.venv/bin/mypy

# Bytecode is compiled at install, and fabnet's own whenever a source changed: the shell here
# may set PYTHONDONTWRITEBYTECODE, and without .pyc files every command compiles pandas, numba
# and the rest again (2 s of start-up; fabnet's own modules 0.07 s of `fabnet simulate`).
sync: .venv/.synced
	@.venv/bin/python -m compileall -q src >/dev/null

.venv/.synced: uv.lock pyproject.toml $(UV)
	$(UV) sync --locked --python $(PYTHON) --quiet --compile-bytecode
	touch $@

# Refresh uv.lock after editing dependencies in pyproject.toml (needs the package registry).
lock: $(UV)
	$(UV) lock --python $(PYTHON)

$(UV):
	$(PYTHON) -m venv .venv-uv
	.venv-uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

clean:
	rm -rf .venv .venv-uv .pytest_cache .hypothesis .coverage .coverage.json
