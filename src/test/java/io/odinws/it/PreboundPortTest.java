package io.odinws.it;

import io.odinws.OdinServer;
import io.odinws.config.HttpConfig;
import io.odinws.router.PreboundPort;
import io.odinws.testkit.FreePorts;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The public port bound before the server starts ({@code Main} does it first thing): a client that connects while
 * the rest starts waits in the accept queue and is upgraded once the router has started, instead of being refused.
 */
class PreboundPortTest {

  private static final String UPGRADE = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

  private Vertx vertx;
  private int deadKafkaPort;

  @BeforeEach
  void setUp() throws IOException {
    // The production transport, as Main asks for: the prebound port is an epoll socket.
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    assertTrue(vertx.isNativeTransportEnabled(), "native transport: " + vertx.unavailableNativeTransportCause());
    try (ServerSocket s = new ServerSocket(0)) {
      deadKafkaPort = s.getLocalPort(); // closed again: the server starts without a broker, which upgrades do not need
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  private JsonObject conf(int port) {
    return new JsonObject()
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", port))
        .put("ops", new JsonObject().put("port", -1))
        .put("kafka", new JsonObject().put("bootstrap", "127.0.0.1:" + deadKafkaPort))
        .put("admission", new JsonObject().put("enabled", false).put("cpuRejectPercent", 100).put("heapRejectPercent", 100));
  }

  @Test
  void aClientConnectingBeforeTheServerStartsIsUpgradedOnceItHasStarted() throws Exception {
    PreboundPort port = PreboundPort.bind(new HttpConfig("127.0.0.1", 0, false));
    assertNotNull(port, "epoll is available here");
    try (Socket early = new Socket()) {
      // nothing of the server runs yet: only the kernel's accept queue takes this connect and the request
      early.connect(new InetSocketAddress("127.0.0.1", port.port()), 5_000);
      early.getOutputStream().write(UPGRADE.getBytes(StandardCharsets.US_ASCII));
      early.getOutputStream().flush();

      OdinServer server = new OdinServer(port);
      vertx.deployVerticle(server, new DeploymentOptions().setConfig(conf(port.port()))).await(60, TimeUnit.SECONDS);
      assertEquals(port.port(), server.port(), "the router listens on the prebound port");

      early.setSoTimeout(30_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(early.getInputStream(), StandardCharsets.US_ASCII));
      assertEquals("HTTP/1.1 101 Switching Protocols", in.readLine(), "the waiting client is upgraded");
    }
  }

  @Test
  void connectsBeyondTheAcceptQueueAreHeldWhileTheServerStartsAndUpgradedOnceItHasStarted() throws Exception {
    // A queue of 128: once it is full (129 waiting) the kernel drops a connect's SYN, so without the connections
    // being taken off it while the server starts, the 130th connect here would wait for a server that is not there.
    PreboundPort port = PreboundPort.bind(new HttpConfig("127.0.0.1", 0, false), 128);
    assertNotNull(port, "epoll is available here");
    List<Socket> early = new ArrayList<>();
    try {
      for (int i = 0; i < 300; i++) { // more than the queue holds, and than the router hands over in one go
        Socket s = new Socket();
        early.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", port.port()), 10_000);
        s.getOutputStream().write(UPGRADE.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
      }

      OdinServer server = new OdinServer(port);
      vertx.deployVerticle(server, new DeploymentOptions().setConfig(conf(port.port()))).await(60, TimeUnit.SECONDS);
      for (Socket s : early) {
        s.setSoTimeout(30_000);
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        assertEquals("HTTP/1.1 101 Switching Protocols", in.readLine(), "every early client is upgraded");
      }
    } finally {
      for (Socket s : early) {
        s.close();
      }
    }
  }

  @Test
  void aPreboundPortClosedBeforeAnyRouterResetsTheConnectionsItHeld() throws Exception {
    PreboundPort port = PreboundPort.bind(new HttpConfig("127.0.0.1", 0, false), 1);
    assertNotNull(port, "epoll is available here");
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port.port()), 10_000);
      port.close();
      s.setSoTimeout(30_000);
      // held or still queued, the connection is closed with the port: the client reads its end (or a reset), not
      // nothing until the timeout
      int read;
      try {
        read = s.getInputStream().read();
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the held connection was left open", e);
      } catch (IOException reset) {
        read = -1;
      }
      assertEquals(-1, read, "the connection is closed");
    }
  }

  @Test
  void aPreboundPortForAnotherAddressIsClosedAndTheRouterBindsItsOwn() throws Exception {
    PreboundPort other = PreboundPort.bind(new HttpConfig("127.0.0.1", 0, false));
    int configured = FreePorts.one(); // the server binds it later
    OdinServer server = new OdinServer(other);
    vertx.deployVerticle(server, new DeploymentOptions().setConfig(conf(configured))).await(60, TimeUnit.SECONDS);
    assertEquals(configured, server.port());
    try (Socket s = new Socket()) {
      assertThrows(ConnectException.class, () -> s.connect(new InetSocketAddress("127.0.0.1", other.port()), 5_000),
          "the unused prebound port is closed");
    }
  }
}
