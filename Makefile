# The two commands: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
EXTRAS := spark,mlflow,hive,serving,pmml,launcher,torch,notebook,test,dev
STAMP  := $(VENV)/.installed-$(EXTRAS)
# torch's CPU wheel lies in PIP_FIND_LINKS on these machines; uv does not read that variable.
FIND_LINKS := $(if $(PIP_FIND_LINKS),--find-links "$(PIP_FIND_LINKS)")

# Recipes that run the project put the venv first on PATH (spark-submit lives there).
RUN    := PATH="$(abspath $(BIN)):$$PATH" PYSPARK_PYTHON="$(abspath $(BIN))/python"

.PHONY: install tf paddle flink flink-up flink-down demo test lint bench docs check-java clean connect-up connect-down mlflow-up mlflow-down serve bench-serving hive-up hive-down ui chromium notebook

install: $(STAMP) ui

check-java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "Java 17 is required by Spark 4 and was not found."; \
	  echo "Install it with: sudo apt-get install -y openjdk-17-jdk-headless (Debian/Ubuntu)"; \
	  echo "or any JDK 17+, then make sure 'java' is on PATH (or set JAVA_HOME)."; exit 1; }
	@java -version 2>&1 | head -1 | grep -Eq 'version "(1[7-9]|2[0-9])' || { \
	  echo "Spark 4 needs Java 17 or newer; found: $$(java -version 2>&1 | head -1)"; \
	  echo "Install it with: sudo apt-get install -y openjdk-17-jdk-headless"; exit 1; }

$(STAMP): setup.cfg pyproject.toml | check-java
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(PYTHON) -m uv venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(PYTHON) -m uv pip install --quiet --python $(BIN)/python $(FIND_LINKS) -e '.[$(EXTRAS)]'
	@touch $@

demo: install
	$(RUN) $(BIN)/python -m airflow_mlplat.demo

# Stops what `python -m airflow_mlplat.demo --keep-serving` left running.
demo-down:
	@test -x $(BIN)/python && $(RUN) $(BIN)/python -m airflow_mlplat.demo --stop || true

test: install flink tf paddle chromium
	$(RUN) $(BIN)/python -m pytest tests

lint: install
	$(BIN)/ruff check .

bench: install
	$(RUN) $(BIN)/python bench/engine_overhead.py

clean:
	rm -rf $(VENV) $(FLINK_VENV) $(TF_VENV) $(PADDLE_VENV) .demo build *.egg-info

docs: install
	$(BIN)/airflow-mlplat components docs
	$(BIN)/airflow-mlplat components stub

# PyFlink in its own venv (it pins a py4j, numpy and pyarrow PySpark cannot share), plus the jars of
# the mlplat-parquet format its jobs ship (compiled here, Parquet/Hadoop jars from the pyspark wheel).
FLINK_VERSION := 2.3.0
FLINK_VENV    := .venv-flink
FLINK_STAMP   := $(FLINK_VENV)/.installed-$(FLINK_VERSION)
FLINK_JAR     := $(FLINK_VENV)/mlplat-jars/mlplat-parquet-format.jar
FLINK_SOURCES := $(wildcard airflow_mlplat/realtime/java/src/org/mlplat/flink/parquet/*.java) airflow_mlplat/realtime/flink_env.py

flink: $(FLINK_JAR)

$(FLINK_STAMP): | check-java
	$(PYTHON) -m uv venv --quiet --allow-existing --python $(PYTHON) $(FLINK_VENV)
	$(PYTHON) -m uv pip install --quiet --python $(FLINK_VENV)/bin/python 'apache-flink==$(FLINK_VERSION)'
	@touch $@

$(FLINK_JAR): $(FLINK_SOURCES) $(FLINK_STAMP) $(STAMP)
	$(BIN)/python -m airflow_mlplat.realtime.flink_env build

# Local servers for a developer (tests start their own): state, pids and logs under .services/
connect-up: install
	$(RUN) $(BIN)/python -m airflow_mlplat.services connect up

connect-down:
	@test -x $(BIN)/python && $(BIN)/python -m airflow_mlplat.services connect down || true

mlflow-up: install
	$(RUN) $(BIN)/python -m airflow_mlplat.services mlflow up

mlflow-down:
	@test -x $(BIN)/python && $(BIN)/python -m airflow_mlplat.services mlflow down || true

# A prediction service in the foreground: make serve MODEL=models:/NAME@champion [PORT=8080]
MODEL ?=
PORT  ?= 8080
serve: install
	@test -n "$(MODEL)" || { echo "usage: make serve MODEL=models:/NAME@champion [PORT=8080]"; exit 2; }
	MLFLOW_TRACKING_URI="$${MLFLOW_TRACKING_URI:-http://127.0.0.1:5055}" $(BIN)/python -m airflow_mlplat.serving --model "$(MODEL)" --port $(PORT)

bench-serving: install
	flock /tmp/mlplat-spark.lock $(RUN) $(BIN)/python bench/serving.py

# DeepFM (ONNX, TorchScript) in the service vs `mlflow models serve`; no Spark. ARGS=--quick for a smoke run.
.PHONY: bench-serving-deep
bench-serving-deep: install
	$(RUN) $(BIN)/python bench/serving_deep.py $(ARGS)

# JupyterLab on 127.0.0.1 with a token, on the project's kernel (state under .services/jupyter); Ctrl-C stops it.
notebook: install
	$(RUN) $(BIN)/airflow-mlplat notebook

hive-up: install
	$(RUN) $(BIN)/python -m airflow_mlplat.services hive up

# A Flink session cluster on 127.0.0.1 (jobs go there when AIRFLOW_CONN_FLINK_DEFAULT is set; otherwise
# each job runs on its own embedded mini-cluster).
flink-up: install flink
	$(RUN) $(BIN)/python -m airflow_mlplat.services flink up

flink-down:
	@test -x $(BIN)/python && $(BIN)/python -m airflow_mlplat.services flink down || true

hive-down:
	@test -x $(BIN)/python && $(BIN)/python -m airflow_mlplat.services hive down || true

# The visual-modelling page (ui/, npm): built into airflow_mlplat/ui/static/, served by the plugin.
UI_BUNDLE := airflow_mlplat/ui/static/index.html
UI_DEPS   := ui/node_modules/.package-lock.json
ui: $(UI_BUNDLE)

$(UI_DEPS): ui/package.json ui/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node.js 20.19+) is needed to build the page in ui/: install nodejs and npm"; exit 1; }
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(UI_BUNDLE): $(UI_DEPS) ui/index.html ui/resources.html ui/vite.config.js $(wildcard ui/src/*)
	cd ui && npm run build --silent

# Debian's chromium for the browser test (playwright-core drives it; no browser download).
chromium:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

# Deep-learning runtimes: the local counterparts of the framework images the launcher's cluster
# profile names (tensorflow/tensorflow, paddlepaddle/paddle). Each replica of a local training job
# runs on its image's interpreter. fsspec serves the platform's staging and export steps in them.
# Paddle 3.0.0: 3.1.1 and later are built without the parameter-server core (Paddle PR #73999), so
# paddle-ps cannot run on them; 3.0.0 needs protobuf < 7 (DistributedStrategy reads FieldDescriptor.label).
# Each runtime also serves its format's models: it gets the prediction service's dependencies.
TF_VERSION     := 2.21.0
TF_VENV        := .venv-tf
TF_STAMP       := $(TF_VENV)/.installed-$(TF_VERSION)-serving
PADDLE_VERSION := 3.0.0
PADDLE_VENV    := .venv-paddle
PADDLE_STAMP   := $(PADDLE_VENV)/.installed-$(PADDLE_VERSION)-serving
SERVING_DEPS   := 'fastapi>=0.110' 'uvicorn>=0.29' 'prometheus-client>=0.20' 'httpx>=0.27' pyyaml pandas

tf: $(TF_STAMP)
paddle: $(PADDLE_STAMP)

$(TF_STAMP):
	$(PYTHON) -m uv venv --quiet --allow-existing --python $(PYTHON) $(TF_VENV)
	$(PYTHON) -m uv pip install --quiet --python $(TF_VENV)/bin/python 'tensorflow-cpu==$(TF_VERSION)' 'tensorboard==$(TF_VERSION)' fsspec $(SERVING_DEPS)
	@touch $@

$(PADDLE_STAMP):
	$(PYTHON) -m uv venv --quiet --allow-existing --python $(PYTHON) $(PADDLE_VENV)
	$(PYTHON) -m uv pip install --quiet --python $(PADDLE_VENV)/bin/python 'paddlepaddle==$(PADDLE_VERSION)' 'protobuf<7' setuptools fsspec $(SERVING_DEPS)
	@touch $@
