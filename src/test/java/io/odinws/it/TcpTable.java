package io.odinws.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the kernel's TCP table (machine-wide: other processes' sockets are in it too): how many
 * established sockets have {@code port} as their local port and one of {@code remotePorts} as the
 * remote one, i.e. the server side of this test's own connections.
 */
final class TcpTable {

  private TcpTable() {
  }

  static long establishedWithLocalPort(int port, java.util.Set<Integer> remotePorts) throws IOException {
    String hexPort = String.format(":%04X", port);
    long n = 0;
    for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path p = Path.of(file);
      if (!Files.exists(p)) {
        continue;
      }
      for (String line : Files.readAllLines(p)) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("01")
            && remotePorts.contains(Integer.parseInt(f[2].substring(f[2].lastIndexOf(':') + 1), 16))) {
          n++;
        }
      }
    }
    return n;
  }
}
