package io.odinws.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for a test to hand to something that binds them later (a broker, a server in a child process).
 * <p>
 * Chosen below the kernel's ephemeral range (32768+ on Linux) when one is free there: a port the kernel handed out
 * with {@code bind(0)} is one it may hand out again at any moment as the source port of an outgoing connection (the
 * child's own Kafka client, another test JVM), and a connected socket on it makes the later {@code listen} fail with
 * "Address already in use". Checked on the wildcard address, which conflicts with a socket on any address.
 */
public final class FreePorts {

  private static final int LOW = 20_000;
  private static final int HIGH = 32_000;
  private static final int ATTEMPTS = 200;

  private FreePorts() {
  }

  /** {@code count} distinct ports, free at the time of the call. */
  public static int[] distinct(int count) {
    int[] ports = new int[count];
    Set<Integer> taken = new HashSet<>();
    for (int i = 0; i < count; i++) {
      int chosen = -1;
      for (int attempt = 0; attempt < ATTEMPTS && chosen < 0; attempt++) {
        int candidate = ThreadLocalRandom.current().nextInt(LOW, HIGH);
        if (!taken.contains(candidate) && canBind(candidate)) {
          chosen = candidate;
        }
      }
      while (chosen < 0 || taken.contains(chosen)) {
        chosen = bindEphemeral(); // the low range is full: the kernel's choice, with the race described above
      }
      taken.add(chosen);
      ports[i] = chosen;
    }
    return ports;
  }

  /** One free port. */
  public static int one() {
    return distinct(1)[0];
  }

  /** A port {@code p} such that {@code p} and {@code p + 1} are free: a public port and its operations port. */
  public static int consecutivePair() {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      int candidate = ThreadLocalRandom.current().nextInt(LOW, HIGH - 1);
      if (canBind(candidate) && canBind(candidate + 1)) {
        return candidate;
      }
    }
    throw new IllegalStateException("no two consecutive free ports in " + LOW + "-" + HIGH);
  }

  private static boolean canBind(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int bindEphemeral() {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port", e);
    }
  }
}
