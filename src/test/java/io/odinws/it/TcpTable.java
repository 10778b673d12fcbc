package io.odinws.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reads the kernel's TCP table: how many established sockets have {@code port} as their local port. */
final class TcpTable {

  private TcpTable() {
  }

  static long establishedWithLocalPort(int port) throws IOException {
    String hexPort = String.format(":%04X", port);
    long n = 0;
    for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path p = Path.of(file);
      if (!Files.exists(p)) {
        continue;
      }
      for (String line : Files.readAllLines(p)) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("01")) {
          n++;
        }
      }
    }
    return n;
  }
}
