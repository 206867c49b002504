# cxpulse: real-time customer-sentiment analytics on Kafka. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SERVICES := $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
STAMP := $(VENV)/.setup-done
TRAIN_VENV := .venv-train
TRAIN_STAMP := $(TRAIN_VENV)/.setup-done

.PHONY: help setup browser contract-tools kafka-up kafka-down registry-up registry-down schemas-register topics test test-unit lint demo bench train-sentiment train-sentiment-heads train-churn evaluate-churn lock clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

$(STAMP): requirements.lock $(wildcard services/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps $(foreach s,$(SERVICES),-e $(s))
	touch $@

setup: $(STAMP) ## .venv with pinned dependencies, every service and the lab (services/lab; the `cxpulse` command)

kafka-up: ## start the local Kafka broker (KRaft, 127.0.0.1:$${KAFKA_PORT:-9092}); a no-op if it runs
	deploy/kafka/kafka.sh up

kafka-down: ## stop the local broker started by kafka-up
	deploy/kafka/kafka.sh down

registry-up: ## start a local Schema Registry (Apicurio, in memory, 127.0.0.1:$${REGISTRY_PORT:-8081}); a no-op if it runs
	deploy/registry/registry.sh up

registry-down: ## stop the registry started by registry-up
	deploy/registry/registry.sh down

schemas-register: setup ## register schemas/ in the registry at SCHEMA_REGISTRY_URL (BACKWARD compatibility)
	$(BIN)/cxpulse schemas register

.PHONY: records
records: setup ## regenerate services/core/cxpulse_core/records.py (typed records) after changing schemas/
	$(BIN)/cxpulse schemas gen-records

topics: setup ## create every topic of schemas/topics.yaml (idempotent)
	$(BIN)/cxpulse topics create

browser: ## headless Chromium (Debian) and playwright-core (npm) for the dashboard's browser test
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	test -d tests/browser/node_modules/playwright-core || npm ci --prefix tests/browser --no-audit --no-fund

contract-tools: ## the official AsyncAPI parser (npm) that validates schemas/asyncapi.yaml
	test -d tests/contract/asyncapi/node_modules/@asyncapi/parser || npm ci --prefix tests/contract/asyncapi --no-audit --no-fund

test: setup browser contract-tools ## every test: unit, contract, integration, browser and end-to-end against a real broker
	$(BIN)/python -m pytest

test-unit: setup contract-tools ## only the tests that need no broker
	$(BIN)/python -m pytest services tests/contract

lint: setup ## ruff
	$(BIN)/ruff check services tests

demo: setup ## the main job: broker, every service, simulated traffic, live console, out/demo/report.json
	$(BIN)/cxpulse demo $(DEMO_ARGS)

bench: setup ## every benchmark -> out/bench/results.json and out/bench/latency.png
	$(BIN)/cxpulse bench $(BENCH_ARGS)

$(TRAIN_STAMP): services/lab/requirements-train.lock
	test -x $(TRAIN_VENV)/bin/python || $(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install --quiet --upgrade pip
	$(TRAIN_VENV)/bin/pip install --quiet -r services/lab/requirements-train.lock
	touch $@

train-sentiment: setup $(TRAIN_STAMP) ## fine-tune the encoder (torch, .venv-train), export int8 ONNX, refit the heads
	cd services/lab && HF_HUB_OFFLINE=1 PYTHONPATH=.:../sentiment ../../$(TRAIN_VENV)/bin/python \
		-m cxpulse_lab.sentiment.training.finetune --out out/finetuned $(FINETUNE_ARGS)
	cd services/lab && HF_HUB_OFFLINE=1 PYTHONPATH=.:../sentiment ../../$(TRAIN_VENV)/bin/python \
		-m cxpulse_lab.sentiment.export_onnx --model-dir out/finetuned/model \
		--out ../sentiment/cxpulse_sentiment/artifacts --variant int8-pc
	$(BIN)/cxpulse train sentiment

train-sentiment-heads: setup ## only refit the sentiment heads on the shipped encoder (no torch; minutes)
	$(BIN)/cxpulse train sentiment

train-churn: setup ## retrain the churn model on the simulator (or: cxpulse train churn --csv FILE)
	$(BIN)/cxpulse train churn

evaluate-churn: setup ## ROC AUC, PR AUC, Brier, reliability plot on held-out simulated data -> out/churn
	$(BIN)/cxpulse evaluate churn

lock: ## re-pin requirements.lock from the current .venv
	$(BIN)/pip freeze --exclude-editable | sed '/^-e /d' > requirements.lock.new && mv requirements.lock.new requirements.lock

clean: ## remove the venv, local broker data and outputs
	-deploy/kafka/kafka.sh down
	-deploy/registry/registry.sh down
	rm -rf $(VENV) $(TRAIN_VENV) .local out
