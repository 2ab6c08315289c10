# Convenience targets; the scripts work without make (see README).
.PHONY: help setup run test lint fmt clean

help:
	@echo "make run    start the portal (./scripts/run)"
	@echo "make test   every check, both rounds (./scripts/test; ARGS='-k foo' for pytest)"
	@echo "make setup  virtualenv, packages, translations, database (./scripts/setup)"
	@echo "make lint   ruff check + ruff format --check"
	@echo "make fmt    ruff check --fix + ruff format"
	@echo "make clean  remove var/ (local database, cache, broker, index, media)"

setup:
	./scripts/setup run

run:
	./scripts/run

test:
	./scripts/test $(ARGS)

lint: .venv/bin/ruff
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

fmt: .venv/bin/ruff
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

clean:
	rm -rf var

.venv/bin/ruff:
	./scripts/setup test
