package io.odinws.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Prints a JMH JSON result file ({@code -rf json}) as a short table: benchmark, parameters, time per
 * operation with its error, and bytes allocated per operation ({@code -prof gc}'s
 * {@code gc.alloc.rate.norm}). Used by {@code bench/jmh.sh}.
 */
public final class JmhSummary {

  private JmhSummary() {
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: JmhSummary <jmh-result.json>");
      System.exit(2);
    }
    JsonArray runs = new JsonArray(Files.readString(Path.of(args[0])));
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"Benchmark", "Parameters", "Score", "Error", "Unit", "Alloc B/op"});
    for (int i = 0; i < runs.size(); i++) {
      JsonObject run = runs.getJsonObject(i);
      String[] name = run.getString("benchmark").split("\\.");
      String benchmark = name[name.length - 2] + "." + name[name.length - 1];
      JsonObject params = run.getJsonObject("params", new JsonObject());
      String p = params.fieldNames().stream().sorted().map(k -> k + "=" + params.getValue(k)).collect(Collectors.joining(" "));
      JsonObject primary = run.getJsonObject("primaryMetric");
      JsonObject secondary = run.getJsonObject("secondaryMetrics", new JsonObject());
      JsonObject alloc = secondary.getJsonObject("gc.alloc.rate.norm");
      rows.add(new String[] {
          benchmark, p,
          number(primary.getValue("score")), number(primary.getValue("scoreError")),
          primary.getString("scoreUnit"),
          alloc == null ? "-" : number(alloc.getValue("score"))});
    }
    int[] width = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int c = 0; c < r.length; c++) {
        width[c] = Math.max(width[c], r[c].length());
      }
    }
    for (int i = 0; i < rows.size(); i++) {
      String[] r = rows.get(i);
      String line = pad(r[0], -width[0]) + "  " + pad(r[1], -width[1]) + "  " + pad(r[2], width[2])
          + (i == 0 ? "   " : " ± ") + pad(r[3], width[3]) + "  " + pad(r[4], -width[4]) + "  " + pad(r[5], width[5]);
      System.out.println(line.stripTrailing());
    }
  }

  /** Right-aligned in {@code width} columns, or left-aligned when {@code width} is negative. */
  private static String pad(String s, int width) {
    return String.format("%" + width + "s", s);
  }

  private static String number(Object v) {
    if (v instanceof Number n) {
      double d = n.doubleValue();
      return Double.isNaN(d) ? "NaN" : String.format(Locale.ROOT, d >= 100 ? "%,.0f" : d >= 10 ? "%.1f" : "%.2f", d);
    }
    return String.valueOf(v);
  }
}
