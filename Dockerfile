# odin-ws container image: built with Maven, run on a JRE as a non-root user.
#
#   make image                      # docker build -t odin-ws:<pom version> .
#   docker run --rm -p 8080:8080 -e KAFKA_BROKERS=kafka:9092 odin-ws:<version>
#
# The image runs `java -jar /app/odin-ws.jar -conf /app/conf/odin-ws.json` (README, "Running in
# production"). /app/conf/odin-ws.json holds the built-in defaults; Kubernetes mounts the
# ConfigMap odin-ws-config over /app/conf (k8s/base). Environment variables (KAFKA_BROKERS,
# WS_MODE, NUM_SHARDS, WS_MAX_CONNECTIONS, ...) override the file, see README "Configuration".
# src/test/java/io/odinws/deploy/DockerfileTest.java checks this file against the pom, the README,
# default.json and k8s/.

# ---- build stage -------------------------------------------------------------------------------
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# Dependencies first: this layer is rebuilt only when pom.xml changes, not on every source edit.
COPY pom.xml ./
RUN mvn -B -q dependency:go-offline
COPY src ./src
# Not offline (-o): go-offline misses a few plugin dependencies resolved only during the build.
RUN mvn -B -q package -DskipTests \
 && test -f target/odin-ws.jar

# ---- runtime stage -----------------------------------------------------------------------------
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

# Numeric user, so Kubernetes can verify runAsNonRoot without a runAsUser.
USER 10001:10001

# Container-aware JVM: heap as a share of the container's memory limit (not of the host's), and
# exit on OutOfMemoryError so the orchestrator restarts a clean process. The rest of the limit is
# left for Netty's direct buffers, metaspace and thread stacks. GC choice and heap/direct-memory
# sizing are tuned by the performance issue; override with `-e JAVA_OPTS=...` (or the pod's env).
# Netty's leak detection is off in production: a sampled frame gets a tracker per duplicate, and one
# sampled message on a 10,000-subscriber channel stalls its shard for tens of ms (JMH FanOutBench).
# The test suite runs with paranoid detection instead.
ENV JAVA_OPTS="-XX:MaxRAMPercentage=60 -XX:InitialRAMPercentage=60 -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled"

EXPOSE 8080

# Liveness only (the process serves HTTP); Kafka readiness is /health/ready, used by Kubernetes.
# WS_PORT is the same environment override the server reads for http.port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${WS_PORT:-8080}/health/live" || exit 1

# `exec` replaces the shell: java is PID 1 and receives SIGTERM itself, so the graceful drain runs.
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/odin-ws.jar -conf /app/conf/odin-ws.json"]
