# odin-ws: `make run` starts the whole system locally; `make test` runs the suite.
# Needs a JDK 17+ and Maven 3.8+ (dependencies from Maven Central); `make test` also installs, when
# missing, the tools the deployment tests run (.ci/test-tools: kubectl, Dockerfile parser; npm, apt).

MVN  ?= mvn -B
JAVA ?= java
# A JDK 25 for the ahead-of-time cache that `make jar` adds (JEP 483/514/515), when one is installed; empty: none.
JDK25 ?= $(firstword $(wildcard /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64))
PORT ?= 8080
RATE ?= 100
DEV_CP = target/classes:target/test-classes:$$(cat target/dev-classpath.txt)

.PHONY: run test test-tools clients-test jar dev bench jmh clean build

## Compile main and test code and write the dev class path (broker, publisher, CLI); Maven also builds the SDK's
## browser bundle and the pages into target/classes/webroot (clients/build.sh; needs Node 20+ and npm, else skipped).
build:
	$(MVN) -q test-compile

## The whole system on this machine: Kafka broker (KRaft), 8 topics, server (multi mode), demo publisher.
run: build
	$(JAVA) -cp "$(DEV_CP)" io.odinws.dev.DevStack --port $(PORT) --rate $(RATE)

## The whole test suite: the SDK's own tests, then unit and integration tests against a real in-process Kafka broker.
test: test-tools clients-test
	$(MVN) test

## The SDK's own tests (node --test against a scripted server, the bundle size check); npm ci first when
## clients/node_modules is missing or older than the lockfile.
clients-test:
	@if [ ! -f clients/node_modules/.package-lock.json ] || [ clients/package-lock.json -nt clients/node_modules/.package-lock.json ]; then \
	  npm --prefix clients ci --no-audit --no-fund; \
	fi
	npm --prefix clients test

## The tools the deployment tests run (kubectl for kustomize, the Dockerfile parser and linter), installed when missing.
test-tools:
	@bash .ci/test-tools

## target/odin-ws.jar (the server) and target/odin-ws-tools.jar (server + tools).
jar:
	$(MVN) -q package -DskipTests
	@# class-data sharing archive for a faster start (Dockerfile, README "Running in production")
	@rm -f target/odin-ws.jsa; $(JAVA) -XX:ArchiveClassesAtExit=target/odin-ws.jsa -jar target/odin-ws.jar cds-training > target/cds-training.log 2>&1 \
	  || echo "make jar: cds-training failed (target/cds-training.log); the server still runs, only its start is slower"
	@# with a JDK 25 on the machine, also its ahead-of-time cache (classes loaded and linked, method profiles) from the
	@# same training run: `$(JDK25)/bin/java -XX:AOTCache=target/odin-ws.aot -jar target/odin-ws.jar` (README)
	@rm -f target/odin-ws.aot; if [ -x "$(JDK25)/bin/java" ]; then \
	  "$(JDK25)/bin/java" -XX:+UseSerialGC -XX:AOTCacheOutput=target/odin-ws.aot -jar target/odin-ws.jar cds-training > target/aot-training.log 2>&1 \
	    || echo "make jar: AOT training on $(JDK25) failed (target/aot-training.log); JDK 25 still runs the jar, without the cache"; \
	fi
	@ls -l target/odin-ws.jar target/odin-ws-tools.jar target/odin-ws.jsa target/odin-ws.aot 2>/dev/null || true

## The dev broker and publisher in the background, the server under the Vert.x CLI with redeploy on source change.
dev: build
	@rm -f target/dev-conf.json; \
	$(JAVA) -cp "$(DEV_CP)" io.odinws.dev.DevStack --no-server --rate $(RATE) & stack=$$!; \
	trap 'kill -TERM $$stack 2>/dev/null; wait $$stack 2>/dev/null' EXIT INT TERM; \
	while [ ! -f target/dev-conf.json ]; do \
	  sleep 0.5; kill -0 $$stack 2>/dev/null || { echo "dev broker failed to start"; exit 1; }; \
	done; \
	$(JAVA) -cp "$(DEV_CP)" io.vertx.core.Launcher run io.odinws.OdinServer \
	  --redeploy="src/main/**/*" --on-redeploy="$(MVN) -q -o compile" --launcher-class=io.vertx.core.Launcher \
	  -conf target/dev-conf.json

## Benchmarks: delivered by issue 5 (load generator, demo publisher and benchmark).
bench:
	@$(MAKE) --no-print-directory jar build
	@py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3; \
	if ! $$py -c 'import matplotlib' 2>/dev/null; then \
	  echo "make bench: installing python3-matplotlib for the charts"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-matplotlib >/dev/null; } \
	    || echo "make bench: matplotlib could not be installed; the report will have no charts"; \
	fi; \
	if [ ! -f /usr/include/liburing.h ]; then \
	  echo "make bench: installing liburing-dev for the kernel floor's io_uring row"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liburing-dev >/dev/null; } \
	    || echo "make bench: liburing-dev could not be installed; the floor has no io_uring row"; \
	fi; \
	$$py bench/run.py $(if $(QUICK),--quick) $(if $(PEER),--peer $(PEER)) $(if $(RPS),--rps) --command "make bench$(if $(QUICK), QUICK=$(QUICK))$(if $(PEER), PEER=$(PEER))$(if $(RPS), RPS=$(RPS))"

## JMH microbenchmarks of the hot paths (encoding, lookup, fan-out); about 4 minutes.
jmh:
	bash bench/jmh.sh

clean:
	$(MVN) -q clean

## Container image odin-ws:$(VERSION) (VERSION defaults to the pom version, else latest; `make image VERSION=1.2.0`). Needs a Docker engine.
.PHONY: image
image: VERSION ?= $(or $(shell sed -n 's:^  <version>\([^<]*\)</version>.*:\1:p' pom.xml 2>/dev/null | head -n 1),latest)
image:
	@command -v docker >/dev/null 2>&1 || { echo "make image: 'docker' is not installed; install Docker, or build elsewhere with: docker build -t odin-ws:$(VERSION) ."; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make image: no Docker engine is reachable ('docker info' fails); start one, or build elsewhere with: docker build -t odin-ws:$(VERSION) ."; exit 1; }
	docker build --build-arg VERSION=$(VERSION) -t odin-ws:$(VERSION) -t odin-ws:latest .
