# odin-ws container image: built with Maven, run on a JRE as a non-root user.
#
#   make image                      # docker build -t odin-ws:<pom version> .
#   docker run --rm -p 8080:8080 -p 8081:8081 -e KAFKA_BROKERS=kafka:9092 odin-ws:<version>
#
# The image runs `java -jar /app/odin-ws.jar -conf /app/conf/odin-ws.json` (README, "Running in
# production"). /app/conf/odin-ws.json holds the built-in defaults; Kubernetes mounts the
# ConfigMap odin-ws-config over /app/conf (k8s/base). Environment variables (KAFKA_BROKERS,
# WS_MODE, NUM_SHARDS, WS_MAX_CONNECTIONS, ...) override the file, see README "Configuration".
# src/test/java/io/odinws/deploy/DockerfileTest.java checks this file against the pom, the README,
# default.json and k8s/.

# ---- build stage -------------------------------------------------------------------------------
FROM maven:3.9-eclipse-temurin-17 AS build
# Node.js and npm (the distribution's): Maven runs clients/build.sh, which builds the SDK's browser bundle and the
# operations port's pages into the jar's webroot/.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is rebuilt only when pom.xml changes, not on every source edit.
COPY pom.xml ./
RUN mvn -B -q dependency:go-offline
# The clients' build tools, likewise rebuilt only when their lockfile or manifests change.
COPY clients/package.json clients/package-lock.json ./clients/
COPY clients/js/package.json ./clients/js/
COPY clients/pages/package.json ./clients/pages/
RUN npm --prefix clients ci --no-audit --no-fund
COPY clients ./clients
COPY src ./src
# Not offline (-o): go-offline misses a few plugin dependencies resolved only during the build.
# The pages must be in the image: a build without them fails here rather than ship a jar that answers 404.
RUN mvn -B -q package -DskipTests \
 && test -f target/odin-ws.jar \
 && test -f target/classes/webroot/market/index.html \
 && test -f target/classes/webroot/sdk/odin-ws.min.js

# ---- runtime stage -----------------------------------------------------------------------------
# JRE 17 with the class-data sharing archive below: a JDK 25 with its ahead-of-time cache (make jar writes one when a
# JDK 25 is installed) started no faster in the bench's fresh starts (README, "Running in production").
FROM eclipse-temurin:17-jre-jammy
ARG VERSION=dev
LABEL org.opencontainers.image.title="odin-ws" \
      org.opencontainers.image.description="WebSocket fan-out server: Kafka market events to WebSocket clients" \
      org.opencontainers.image.version="${VERSION}"

# The Temurin Ubuntu images ship curl (used by HEALTHCHECK below); install it only if a future base lacks it.
RUN if ! command -v curl >/dev/null 2>&1; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && groupadd --gid 10001 odin \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin odin

WORKDIR /app
COPY --from=build /src/target/odin-ws.jar /app/odin-ws.jar
COPY src/main/resources/conf/default.json /app/conf/odin-ws.json
# Class-data sharing archive of the classes the server loads (`cds-training` starts it on a loopback
# port against an empty Kafka broker of its own, gets ready, serves one client, stops): class loading
# is most of the startup, and the archive takes it from about 2.4 s to 1.2 s to /health/ready
# (make bench, "Startup"). Written by this image's JVM for this jar path; if they ever differ, the JVM
# only skips the archive. A JVM that cannot write one (no base CDS archive) leaves the build going: the
# server then starts without it.
RUN java -XX:ArchiveClassesAtExit=/app/odin-ws.jsa -jar /app/odin-ws.jar cds-training > /dev/null \
 && test -s /app/odin-ws.jsa \
 || echo "WARNING: no class-data sharing archive written; the server will start without it, about 1 s slower"

# Numeric user, so Kubernetes can verify runAsNonRoot without a runAsUser.
USER 10001:10001

# JVM settings, chosen by measurement (make bench; bench/run.py starts its server with exactly these):
# - heap as a share of the container's memory limit (not of the host's); the rest of the limit is left
#   for Netty's direct buffers, metaspace and thread stacks; exit on OutOfMemoryError so the
#   orchestrator restarts a clean process;
# - Serial collector with a fixed 48 MiB young generation: a large young generation is touched page by
#   page as connections are accepted and stays resident, so RSS grew 17.5 KB per idle connection with
#   the default sizing (Serial, young = 1/3 of a 1.2 GiB heap), 9.4 KB with G1 and 4.1 KB with this
#   (S1, 19,000 connections); live data per connection is the same (~2.3 KB);
# - the JIT's first tier only (C1, TieredStopAtLevel=1): the server's time goes to the kernel's writes,
#   and a fresh process that meets a reconnect storm spent about half its core compiling with C2;
#   C1 alone compiles in a fraction of that, and the fan-out costs the same (make bench, S1, S2, S6);
# - the class-data sharing archive written above: ready in about half the time;
# - Netty's leak detection off: a sampled frame gets a tracker per duplicate, and one sampled message on a
#   10,000-subscriber channel stalls its shard for tens of ms (JMH FanOutBench). The tests run with
#   paranoid detection instead;
# - Netty's JFR events off: the first pooled chunk Netty allocates (the first request or connection) registers
#   its allocator events with the JDK's Flight Recorder, whose set-up took tens of ms of a fresh process's core,
#   before /health/ready (make bench, startup). A JFR recording still gets the JVM's own events; set
#   -Dio.netty.jfr.enabled=true for Netty's.
# Override or add with `-e JAVA_OPTS=...` (or the pod's env); a later flag wins.
ENV JAVA_OPTS="-XX:MaxRAMPercentage=60 -XX:InitialRAMPercentage=60 -XX:+UseSerialGC -Xmn48m -XX:TieredStopAtLevel=1 -XX:SharedArchiveFile=/app/odin-ws.jsa -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled -Dio.netty.jfr.enabled=false"

# 8080: WebSockets (plus /health and /metrics); 8081: /health and /metrics on a thread of their own, and the pages
# (/market/, /operator/)
EXPOSE 8080 8081

# Liveness only (the process serves HTTP, no shard's loop is stuck); Kafka readiness is /health/ready,
# used by Kubernetes. OPS_PORT is the same environment override the server reads for ops.port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${OPS_PORT:-8081}/health/live" || exit 1

# `exec` replaces the shell: java is PID 1 and receives SIGTERM itself, so the graceful drain runs.
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/odin-ws.jar -conf /app/conf/odin-ws.json"]
