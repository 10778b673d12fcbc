# odin-ws container image: built with Maven, run on a JRE as a non-root user.
# Build: docker build -t odin-ws .   Run: docker run -p 8080:8080 -e KAFKA_BROKERS=kafka:9092 odin-ws

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --no-create-home odin
WORKDIR /app
COPY --from=build /src/target/odin-ws.jar /app/odin-ws.jar
COPY src/main/resources/conf/default.json /app/conf/odin-ws.json
USER 10001
EXPOSE 8080
# Container-aware heap: a share of the container's memory limit, not of the host's.
ENV JAVA_OPTS="-XX:MaxRAMPercentage=70 -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/odin-ws.jar -conf /app/conf/odin-ws.json"]
