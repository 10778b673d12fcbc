package io.odinws.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Kafka (KRaft, {@code process.roles=broker,controller}) running inside the current
 * JVM, bound to 127.0.0.1 only.
 *
 * <p>Lifecycle: {@link #start()} formats a fresh data directory under {@code target/} (with the same code path as
 * {@code kafka-storage.sh format}), starts {@link KafkaRaftServer} and waits until the broker is registered and
 * unfenced. {@link #stopBroker()} / {@link #restartBroker()} stop and start the same node on the same ports with the
 * same data directory (data survives). {@link #close()} stops the node and deletes the directory it created.
 *
 * <p>Kafka's server threads are not daemons: an instance that is never closed keeps the JVM alive. Every instance
 * therefore registers a JVM shutdown hook that closes it as a safety net; {@link #close()} is idempotent.
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private static final int NODE_ID = 1;
  private static final String HOST = "127.0.0.1";
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration TOPIC_READY_TIMEOUT = Duration.ofSeconds(30);

  private final Path dataDir;
  private final boolean deleteDataDirOnClose;
  private final int port;
  private final int controllerPort;
  private final Properties brokerProps;
  private final Thread shutdownHook;

  /** Guarded by {@code this}. Null while stopped. */
  private KafkaRaftServer server;
  private volatile boolean closed;
  private volatile Duration lastStartupTime = Duration.ZERO;

  private EmbeddedKafka(Path dataDir, boolean deleteDataDirOnClose, int port, int controllerPort) {
    this.dataDir = dataDir;
    this.deleteDataDirOnClose = deleteDataDirOnClose;
    this.port = port;
    this.controllerPort = controllerPort;
    this.brokerProps = brokerProperties(dataDir, port, controllerPort);
    this.shutdownHook = new Thread(this::closeFromShutdownHook, "embedded-kafka-shutdown-hook-" + port);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Start / stop
  // ------------------------------------------------------------------------------------------------------------

  /** Starts a broker whose data directory is a fresh temporary directory under {@code target/}; deleted on close. */
  public static EmbeddedKafka start() {
    Path base = Paths.get("target").toAbsolutePath();
    Path dir;
    try {
      Files.createDirectories(base);
      dir = Files.createTempDirectory(base, "embedded-kafka-");
    } catch (IOException e) {
      throw new IllegalStateException("cannot create a temp dir under " + base, e);
    }
    return start(dir, true);
  }

  /**
   * Starts a broker that keeps its data in {@code dataDir} (created if missing; an already formatted directory is
   * reused). The caller owns that directory: {@link #close()} leaves it in place.
   */
  public static EmbeddedKafka start(Path dataDir) {
    return start(dataDir.toAbsolutePath(), false);
  }

  private static EmbeddedKafka start(Path dataDir, boolean deleteOnClose) {
    RuntimeException last = null;
    // Ports are chosen before Kafka binds them, so another process may steal one in between: retry a few times.
    for (int attempt = 1; attempt <= 3; attempt++) {
      int[] ports = FreePorts.distinct(2); // below the ephemeral range: restartBroker() can bind them again
      EmbeddedKafka kafka = new EmbeddedKafka(dataDir, deleteOnClose, ports[0], ports[1]);
      try {
        long t0 = System.nanoTime();
        kafka.format();
        Runtime.getRuntime().addShutdownHook(kafka.shutdownHook);
        kafka.startServer();
        kafka.lastStartupTime = Duration.ofNanos(System.nanoTime() - t0);
        LOG.info("embedded Kafka started in {} ms including storage format", kafka.lastStartupTime.toMillis());
        return kafka;
      } catch (RuntimeException e) {
        last = e;
        LOG.warn("embedded Kafka failed to start on ports {}/{} (attempt {}): {}", ports[0], ports[1], attempt,
            e.toString());
        kafka.closeQuietly();
        if (!isBindFailure(e)) {
          break;
        }
      }
    }
    throw last;
  }

  /** Stops broker and controller (same process); the data directory and the port reservation stay. */
  public synchronized void stopBroker() {
    ensureNotClosed();
    KafkaRaftServer s = server;
    server = null;
    if (s != null) {
      long t0 = System.nanoTime();
      shutdownServer(s);
      LOG.info("embedded Kafka on {} stopped in {} ms", bootstrap(), millisSince(t0));
    }
  }

  /**
   * Starts the node again (stopping it first if it runs) on the same ports and data directory, and returns once the
   * broker is unfenced and every partition of the existing topics has its leader back.
   */
  public synchronized void restartBroker() {
    ensureNotClosed();
    if (server != null) {
      stopBroker();
    }
    startServer();
  }

  public synchronized boolean isRunning() {
    return server != null;
  }

  /** Stops the node (if running), deletes the temp data directory it created, and removes the shutdown hook. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      KafkaRaftServer s = server;
      server = null;
      long t0 = System.nanoTime();
      if (s != null) {
        shutdownServer(s);
      }
      if (deleteDataDirOnClose) {
        deleteRecursively(dataDir);
      }
      LOG.info("embedded Kafka on {} closed in {} ms", bootstrap(), millisSince(t0));
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException | IllegalArgumentException ignored) {
      // JVM is already shutting down (we may be running inside the hook), or the hook was never added.
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Accessors
  // ------------------------------------------------------------------------------------------------------------

  /** {@code "127.0.0.1:PORT"}; stable across {@link #stopBroker()}/{@link #restartBroker()}. */
  public String bootstrap() {
    return HOST + ":" + port;
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  /**
   * Wall time of the last (re)start until the broker was unfenced and every partition of the existing topics had a
   * leader; for the first start this includes formatting the storage.
   */
  public Duration lastStartupTime() {
    return lastStartupTime;
  }

  /** A new Admin client for this broker; the caller closes it. */
  public Admin createAdmin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "embedded-kafka-admin");
    return Admin.create(p);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Topics
  // ------------------------------------------------------------------------------------------------------------

  /**
   * Creates the topics (replication factor 1) and returns only once {@code Admin.listOffsets(latest)} succeeds
   * for every partition of every one of them. Topics that already exist are accepted as they are.
   *
   * <p>Why wait for listOffsets: KAFKA-15591, an idempotent producer that sends right after createTopics can
   * silently lose records while partition leadership is still being set up.
   */
  public void createTopics(Map<String, Integer> partitionsByTopic) {
    if (partitionsByTopic.isEmpty()) {
      return;
    }
    ensureNotClosed();
    long deadline = System.nanoTime() + TOPIC_READY_TIMEOUT.toNanos();
    try (Admin admin = createAdmin()) {
      createMissing(admin, partitionsByTopic, deadline);
      Set<TopicPartition> partitions = describePartitions(admin, partitionsByTopic.keySet(), deadline);
      awaitListOffsets(admin, partitions, deadline);
    }
  }

  private static void createMissing(Admin admin, Map<String, Integer> partitionsByTopic, long deadline) {
    Map<String, Integer> pending = new HashMap<>(partitionsByTopic);
    Throwable lastError = null;
    while (!pending.isEmpty()) {
      List<NewTopic> newTopics = new ArrayList<>();
      pending.forEach((t, n) -> newTopics.add(new NewTopic(t, n, (short) 1)));
      CreateTopicsResult result = admin.createTopics(newTopics);
      for (Map.Entry<String, KafkaFuture<Void>> e : result.values().entrySet()) {
        try {
          e.getValue().get(remainingMillis(deadline, 10_000), TimeUnit.MILLISECONDS);
          pending.remove(e.getKey());
        } catch (ExecutionException ex) {
          if (ex.getCause() instanceof TopicExistsException) {
            pending.remove(e.getKey());
          } else {
            lastError = ex.getCause();
          }
        } catch (TimeoutException ex) {
          lastError = ex;
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while creating topics", ex);
        }
      }
      if (!pending.isEmpty()) {
        if (System.nanoTime() - deadline >= 0) {
          throw new IllegalStateException("could not create topics " + pending.keySet(), lastError);
        }
        pause(200);
      }
    }
  }

  private static Set<TopicPartition> describePartitions(Admin admin, Set<String> topics, long deadline) {
    Throwable lastError = null;
    while (System.nanoTime() - deadline < 0) {
      try {
        Map<String, TopicDescription> descriptions = admin.describeTopics(topics).allTopicNames()
            .get(remainingMillis(deadline, 10_000), TimeUnit.MILLISECONDS);
        Set<TopicPartition> result = new HashSet<>();
        descriptions.forEach((name, d) ->
            d.partitions().forEach(p -> result.add(new TopicPartition(name, p.partition()))));
        return result;
      } catch (ExecutionException | TimeoutException e) {
        lastError = e instanceof ExecutionException ? e.getCause() : e;
        pause(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while describing topics", e);
      }
    }
    throw new IllegalStateException("could not describe topics " + topics, lastError);
  }

  private static void awaitListOffsets(Admin admin, Set<TopicPartition> partitions, long deadline) {
    Set<TopicPartition> pending = new HashSet<>(partitions);
    Throwable lastError = null;
    while (!pending.isEmpty()) {
      Map<TopicPartition, OffsetSpec> request = new HashMap<>();
      pending.forEach(tp -> request.put(tp, OffsetSpec.latest()));
      ListOffsetsResult result = admin.listOffsets(request);
      for (TopicPartition tp : request.keySet()) {
        try {
          result.partitionResult(tp).get(remainingMillis(deadline, 10_000), TimeUnit.MILLISECONDS);
          pending.remove(tp);
        } catch (ExecutionException ex) {
          lastError = ex.getCause();
        } catch (TimeoutException ex) {
          lastError = ex;
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for partitions", ex);
        }
      }
      if (!pending.isEmpty()) {
        if (System.nanoTime() - deadline >= 0) {
          throw new IllegalStateException(
              "listOffsets still failing at the deadline for " + pending, lastError);
        }
        pause(100);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Internals
  // ------------------------------------------------------------------------------------------------------------

  private static Properties brokerProperties(Path dataDir, int port, int controllerPort) {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", String.valueOf(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
    p.put("listeners", "PLAINTEXT://" + HOST + ":" + port + ",CONTROLLER://" + HOST + ":" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + port);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", dataDir.resolve("logs").toString());

    // Single node: every internal topic with replication factor 1, and as few partitions as possible.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("share.coordinator.state.topic.num.partitions", "1");
    p.put("default.replication.factor", "1");
    p.put("min.insync.replicas", "1");
    p.put("num.partitions", "1");
    p.put("auto.create.topics.enable", "false");

    // Fast and small for a 2-core test machine.
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 * 1024 * 1024)); // default 128 MiB, on heap
    p.put("num.network.threads", "2");
    p.put("num.io.threads", "4");
    p.put("num.recovery.threads.per.data.dir", "1");
    p.put("broker.heartbeat.interval.ms", "500");
    return p;
  }

  /** Same code path as {@code kafka-storage.sh format -t ID -c server.properties --ignore-formatted}. */
  private void format() {
    try {
      Files.createDirectories(dataDir);
      Path configFile = dataDir.resolve("server.properties");
      try (OutputStream out = Files.newOutputStream(configFile)) {
        brokerProps.store(out, "embedded Kafka (generated)");
      }
      String[] args = {
          "format", "--cluster-id", Uuid.randomUuid().toString(), "--config", configFile.toString(),
          "--ignore-formatted"};
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      int rc;
      try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
        rc = StorageTool.execute(args, ps);
      }
      if (rc != 0) {
        throw new IllegalStateException(
            "kafka storage format failed (exit " + rc + "): " + buf.toString(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot prepare Kafka data dir " + dataDir, e);
    } catch (IllegalStateException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalStateException("kafka storage format failed in " + dataDir, e);
    }
  }

  /** Caller holds the lock (or is the constructor path). */
  private synchronized void startServer() {
    long t0 = System.nanoTime();
    KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(brokerProps, false), Time.SYSTEM);
    server = s; // set before startup() so that a failed start is still shut down by close()
    try {
      s.startup();
      long deadline = t0 + STARTUP_TIMEOUT.toNanos();
      awaitBrokerUnfenced(deadline);
      awaitExistingPartitionsReady(deadline);
    } catch (RuntimeException e) {
      server = null;
      shutdownServer(s);
      throw e;
    }
    lastStartupTime = Duration.ofNanos(System.nanoTime() - t0);
    LOG.info("embedded Kafka (KRaft broker+controller) ready on {} in {} ms, data dir {}",
        bootstrap(), lastStartupTime.toMillis(), dataDir);
  }

  /** describeCluster lists only registered, unfenced brokers: once ours is there, topics can be created. */
  private void awaitBrokerUnfenced(long deadline) {
    Throwable lastError = null;
    try (Admin admin = createAdmin()) {
      while (System.nanoTime() - deadline < 0) {
        try {
          var nodes = admin.describeCluster().nodes().get(remainingMillis(deadline, 5_000), TimeUnit.MILLISECONDS);
          if (nodes.stream().map(Node::id).anyMatch(id -> id == NODE_ID)) {
            return;
          }
        } catch (ExecutionException e) {
          lastError = e.getCause();
        } catch (TimeoutException e) {
          lastError = e;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the broker", e);
        }
        pause(50);
      }
    }
    throw new IllegalStateException("embedded Kafka on " + bootstrap() + " not ready after " + STARTUP_TIMEOUT,
        lastError);
  }

  /**
   * After a restart the broker is unfenced before the controller has re-elected it leader of its partitions, so a
   * client would briefly see NOT_LEADER_OR_FOLLOWER: wait until every existing partition answers listOffsets.
   */
  private void awaitExistingPartitionsReady(long deadline) {
    try (Admin admin = createAdmin()) {
      Set<String> topics = admin.listTopics().names().get(remainingMillis(deadline, 10_000), TimeUnit.MILLISECONDS);
      if (!topics.isEmpty()) {
        awaitListOffsets(admin, describePartitions(admin, topics, deadline), deadline);
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("embedded Kafka on " + bootstrap() + ": cannot list topics", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for partitions", e);
    }
  }

  private static void shutdownServer(KafkaRaftServer s) {
    try {
      s.shutdown();
    } catch (Throwable t) {
      LOG.warn("embedded Kafka shutdown failed", t);
    }
    try {
      s.awaitShutdown();
    } catch (Throwable t) {
      LOG.warn("embedded Kafka awaitShutdown failed", t);
    }
  }

  private void closeFromShutdownHook() {
    if (!closed) {
      LOG.warn("embedded Kafka on {} was not closed: closing it from the JVM shutdown hook", bootstrap());
      close();
    }
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      LOG.warn("closing embedded Kafka failed", e);
    }
  }

  private void ensureNotClosed() {
    if (closed) {
      throw new IllegalStateException("embedded Kafka on " + bootstrap() + " is closed");
    }
  }

  private static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.BindException
          || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) {
        return true;
      }
    }
    return false;
  }

  private static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
          if (exc instanceof NoSuchFileException) {
            return FileVisitResult.CONTINUE;
          }
          throw exc;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
          Files.deleteIfExists(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      LOG.warn("could not delete embedded Kafka data dir {}: {}", root, e.toString());
    }
  }

  private static long remainingMillis(long deadlineNanos, long capMillis) {
    long left = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    return Math.max(1, Math.min(capMillis, left));
  }

  private static long millisSince(long t0Nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0Nanos);
  }

  /** Back-off between polls of the broker's state inside the helpers above. */
  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedKafka[" + bootstrap() + ", dataDir=" + dataDir + ", running=" + isRunning() + "]";
  }
}
