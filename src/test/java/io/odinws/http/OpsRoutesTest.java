package io.odinws.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The public port's side of the endpoint table: the same replies as the operations port, written by Netty. */
class OpsRoutesTest {

  private final Promise<PublicEndpoints.Health> readiness = Promise.promise();
  private final List<Boolean> handled = new ArrayList<>();
  private final EmbeddedChannel channel = new EmbeddedChannel(new SimpleChannelInboundHandler<FullHttpRequest>() {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      handled.add(OpsRoutes.handle(ctx, req, new PublicEndpoints() {
        @Override
        public Health health() {
          return new Health(503, "{\"status\":\"unhealthy\"}");
        }

        @Override
        public Health live() {
          return new Health(200, "{\"status\":\"UP\"}");
        }

        @Override
        public Future<Health> ready() {
          return readiness.future();
        }

        @Override
        public String metrics() {
          return "ws_connections_total 3.0\n";
        }
      }));
    }
  });

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  @Test
  void answersEachEndpointWithItsStatusTypeAndBody() {
    assertReply(request(HttpMethod.GET, "/health"), 503, "application/json", "{\"status\":\"unhealthy\"}");
    assertReply(request(HttpMethod.GET, "/health/live"), 200, "application/json", "{\"status\":\"UP\"}");
    assertReply(request(HttpMethod.GET, "/metrics?name=x"), 200, "text/plain; version=0.0.4; charset=utf-8", "ws_connections_total 3.0\n");
    assertEquals(List.of(true, true, true), handled);
  }

  @Test
  void readinessIsAnsweredWhenItsChecksComplete() {
    assertNull(request(HttpMethod.GET, "/health/ready"), "nothing before the checks complete");
    readiness.fail("checks failed");
    assertReply(channel.readOutbound(), 503, "application/json", "{\"status\":\"DOWN\"}");
  }

  @Test
  void headSaysTheLengthWithoutTheBody() {
    FullHttpResponse head = request(HttpMethod.HEAD, "/health/live");
    try {
      assertEquals(String.valueOf("{\"status\":\"UP\"}".length()), head.headers().get(HttpHeaderNames.CONTENT_LENGTH));
      assertEquals(0, head.content().readableBytes());
    } finally {
      head.release();
    }
  }

  @Test
  void healthResponsesAllowAnyOriginAndMetricsDoNot() {
    for (String path : new String[] {"/health", "/health/live"}) {
      FullHttpResponse r = request(HttpMethod.GET, path);
      try {
        assertEquals("*", r.headers().get("Access-Control-Allow-Origin"), path);
      } finally {
        r.release();
      }
    }
    FullHttpResponse head = request(HttpMethod.HEAD, "/health");
    FullHttpResponse metrics = request(HttpMethod.GET, "/metrics");
    try {
      assertEquals("*", head.headers().get("Access-Control-Allow-Origin"));
      assertNull(metrics.headers().get("Access-Control-Allow-Origin"), "/metrics is not for browsers");
    } finally {
      head.release();
      metrics.release();
    }
  }

  @Test
  void optionsOfAHealthEndpointIsAnsweredWith200AndTheCorsHeaders() {
    for (String path : new String[] {"/health", "/health/live", "/health/ready"}) {
      FullHttpResponse r = request(HttpMethod.OPTIONS, path);
      try {
        assertEquals(200, r.status().code(), path);
        assertEquals("*", r.headers().get("Access-Control-Allow-Origin"));
        assertEquals("GET, HEAD, OPTIONS", r.headers().get("Access-Control-Allow-Methods"));
        assertTrue(r.headers().get("Access-Control-Allow-Headers").contains("Content-Type"));
        assertEquals("GET, HEAD, OPTIONS", r.headers().get(HttpHeaderNames.ALLOW));
        assertEquals("0", r.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals(0, r.content().readableBytes());
        assertFalse(r.headers().contains(HttpHeaderNames.CONNECTION), "kept alive");
      } finally {
        r.release();
      }
    }
    assertNull(request(HttpMethod.OPTIONS, "/metrics"), "left to the caller (404)");
    assertEquals(List.of(true, true, true, false), handled);
  }

  @Test
  void otherPathsAndMethodsAreLeftToTheCaller() {
    assertNull(request(HttpMethod.GET, "/ws"));
    assertNull(request(HttpMethod.POST, "/health"));
    assertNull(request(HttpMethod.GET, "/health/"));
    assertEquals(List.of(false, false, false), handled);
  }

  private FullHttpResponse request(HttpMethod method, String uri) {
    channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri));
    return channel.readOutbound();
  }

  private static void assertReply(FullHttpResponse r, int status, String contentType, String body) {
    try {
      assertEquals(status, r.status().code());
      assertEquals(contentType, r.headers().get(HttpHeaderNames.CONTENT_TYPE));
      assertEquals("no-store", r.headers().get(HttpHeaderNames.CACHE_CONTROL));
      assertFalse(r.headers().contains(HttpHeaderNames.CONNECTION), "kept alive");
      assertEquals(body, r.content().toString(StandardCharsets.UTF_8));
    } finally {
      r.release();
    }
  }
}
