package io.odinws.it;

import io.netty.channel.EventLoop;
import io.odinws.shard.admission.ResourceGuard;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The resource guard's CPU is the shards' own: with a threshold of 2 % held for 3 s, a thread spinning elsewhere in the
 * process (as a broker or publisher does in make run) turns no upgrade away, while the shards' loops kept busy do,
 * until they are quiet again.
 */
@ExtendWith(KafkaBrokerExtension.class)
class CpuGuardTest {

  private static EmbeddedKafka kafka;
  private ServerHarness server;

  @BeforeAll
  static void topics(EmbeddedKafka broker) {
    kafka = broker;
    OdinTopics.createAll(kafka);
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void onlyTheShardsSustainedWorkTripsTheCpuGuard() throws Exception {
    server = ServerHarness.start(kafka, new JsonObject().put("mode", "multi").put("shards", 2)
        .put("admission", new JsonObject().put("cpuRejectPercent", 2).put("cpuSustainSeconds", 3)));

    // Other work in the process: one thread spinning for twice the window. Every upgrade is admitted.
    AtomicBoolean spin = new AtomicBoolean(true);
    Thread foreign = new Thread(() -> spinWhile(spin), "cpu-guard-test-foreign");
    foreign.start();
    try {
      // Twice the guard's window (3 samples), counted in its own samples, not in wall time: on a busy machine its
      // timer may fire late, and a window of the clock would then hold fewer samples than it should.
      ResourceGuard guard = server.server.resourceGuard();
      long until = guard.samples() + 6;
      for (long seen = guard.samples(); seen < until; seen = guard.samples()) {
        String answer = upgrade();
        assertTrue(answer.startsWith("HTTP/1.1 101"), "admitted while another thread of the process is busy: " + firstLine(answer));
        long before = seen;
        Await.until("the guard's next sample", Duration.ofSeconds(30), () -> guard.samples() > before);
      }
    } finally {
      spin.set(false);
      foreign.join();
    }
    assertEquals(0, metric("ws_capacity_rejections_total", "reason=\"cpu\""));

    // The shards' own loops kept busy (in short tasks, so they still serve their sockets): refused with 503 cpu.
    AtomicBoolean busy = new AtomicBoolean(true);
    try {
      for (var shard : server.server.shardVerticles()) {
        keepBusy(shard.eventLoop(), busy);
      }
      awaitUpgradeStatus(503, "an upgrade refused for CPU");
      assertTrue(metric("ws_capacity_rejections_total", "reason=\"cpu\"") >= 1);
      assertTrue(metric("ws_shard_cpu_percent", null) > 2);
    } finally {
      busy.set(false);
    }
    // Quiet again: the window's mean falls under the threshold and upgrades are admitted.
    awaitUpgradeStatus(101, "upgrades admitted again");
  }

  private static void keepBusy(EventLoop loop, AtomicBoolean busy) {
    loop.execute(() -> {
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
      if (busy.get()) {
        keepBusy(loop, busy);
      }
    });
  }

  private static void spinWhile(AtomicBoolean spin) {
    while (spin.get()) {
      Thread.onSpinWait();
    }
  }

  /**
   * Tries an upgrade every 500 ms until one gets {@code status}: upgrades are work for the shards, so polling faster
   * would keep them busy itself.
   */
  private void awaitUpgradeStatus(int status, String what) {
    int[] last = {0};
    Await.until(what, Duration.ofSeconds(60), Duration.ofMillis(500), () -> (last[0] = upgradeStatus()) == status,
        () -> "; last status " + last[0]);
  }

  private int upgradeStatus() {
    try {
      String head = upgrade();
      return head.length() >= 12 ? Integer.parseInt(head.substring(9, 12)) : -1;
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  /** An upgrade on a new socket: the response head; the socket is closed after it. */
  private String upgrade() throws IOException {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write((RawWsClient.UPGRADE_HEADERS + "\r\n").getBytes(StandardCharsets.US_ASCII));
      return RawWsClient.readHead(s.getInputStream());
    }
  }

  private double metric(String name, String label) throws IOException {
    String text;
    try (Socket s = new Socket("127.0.0.1", server.server.opsPort())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      text = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(text);
    while (m.find()) {
      String labels = m.group(1);
      if (label == null ? labels == null : labels != null && labels.contains(label)) {
        return Double.parseDouble(m.group(2));
      }
    }
    throw new AssertionError(name + " not in /metrics");
  }

  private static String firstLine(String response) {
    int eol = response.indexOf('\r');
    return eol < 0 ? response : response.substring(0, eol);
  }
}
