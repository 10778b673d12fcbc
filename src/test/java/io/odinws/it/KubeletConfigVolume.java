package io.odinws.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A ConfigMap volume laid out and updated as the kubelet's atomic writer does it: the data in a timestamped
 * directory ({@code ..2026_12_03_15_00_00.123456789/odin-ws.json}), a {@code ..data} symlink to it, and each key a
 * symlink through it ({@code odin-ws.json -> ..data/odin-ws.json}). An update writes a new timestamped directory,
 * points a new {@code ..data_tmp} symlink at it, renames that over {@code ..data} (one atomic step: a reader sees
 * the old file or the new, never neither) and then deletes the old directory. Every link is relative, as the
 * kubelet's are.
 */
final class KubeletConfigVolume {

  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("'..'yyyy_MM_dd_HH_mm_ss.");

  private final Path dir;
  private final String key;
  private Path current;

  private KubeletConfigVolume(Path dir, String key) {
    this.dir = dir;
    this.key = key;
  }

  /** A volume in {@code dir} (empty) with one key, as the kubelet creates it when the pod starts. */
  static KubeletConfigVolume create(Path dir, String key, String content) throws IOException {
    KubeletConfigVolume volume = new KubeletConfigVolume(dir, key);
    volume.current = volume.writeDataDir(content);
    Files.createSymbolicLink(dir.resolve("..data"), volume.current.getFileName());
    Files.createSymbolicLink(dir.resolve(key), Path.of("..data", key));
    return volume;
  }

  /** The path the container sees: {@code dir/key}, a symlink through {@code ..data}. */
  Path file() {
    return dir.resolve(key);
  }

  /** The kubelet's update after the ConfigMap changed. */
  void update(String content) throws IOException {
    Path previous = current;
    Path next = writeDataDir(content);
    Path tmp = dir.resolve("..data_tmp");
    Files.createSymbolicLink(tmp, next.getFileName());
    Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    current = next;
    deleteTree(previous);
  }

  private Path writeDataDir(String content) throws IOException {
    // the kubelet's os.MkdirTemp(dir, "..2006_01_02_15_04_05."): a UTC timestamp and a random suffix
    Path data;
    do {
      data = dir.resolve(ZonedDateTime.now(ZoneOffset.UTC).format(STAMP) + ThreadLocalRandom.current().nextLong(100_000_000L, 1_000_000_000L));
    } while (Files.exists(data));
    Files.createDirectory(data);
    Files.writeString(data.resolve(key), content);
    return data;
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
