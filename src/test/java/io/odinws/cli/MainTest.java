package io.odinws.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The server's command line, run through {@link CommandLine#execute} (its exit status is returned, not
 * exited with). No case here starts a server: each ends at the help, at a usage or configuration error, or at a
 * port in use.
 */
class MainTest {

  /** Exit status, stdout and stderr of one command line. */
  private record Run(int status, String out, String err) {
  }

  private static Run run(CommandLine cl, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int status = cl.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  private static Run run(String... args) {
    return run(Main.commandLine(), args);
  }

  @Test
  void helpListsTheConfigurationOptionAndEveryCommand() {
    for (String help : List.of("--help", "-h")) {
      Run r = run(help);
      assertEquals(0, r.status(), r.err());
      for (String s : List.of("Usage: odin-ws", "-conf", "--conf", "cds-training", "publish", "loadtest")) {
        assertTrue(r.out().contains(s), s + " in:\n" + r.out());
      }
    }
  }

  @Test
  void unknownArgumentsAndCommandsAreUsageErrors() {
    Run option = run("--bogus");
    assertEquals(2, option.status());
    assertTrue(option.err().startsWith("odin-ws: Unknown option: '--bogus'"), option.err());
    assertTrue(option.err().contains("--help"), option.err());
    Run command = run("frobnicate");
    assertEquals(2, command.status());
    assertTrue(command.err().contains("'frobnicate'"), command.err());
    Run noValue = run("-conf");
    assertEquals(2, noValue.status());
    assertTrue(noValue.err().contains("-conf"), noValue.err());
  }

  @Test
  void invalidConfigurationIsAUsageErrorWithTheReason() {
    Run mode = run("-conf", "{\"mode\":\"nonsense\"}");
    assertEquals(2, mode.status());
    assertTrue(mode.err().startsWith("odin-ws: invalid configuration: mode = 'nonsense'"), mode.err());
    Run file = run("--conf=/nonexistent/odin-ws.json");
    assertEquals(2, file.status());
    assertTrue(file.err().startsWith("odin-ws: configuration file not found"), file.err());
    Run json = run("--conf", "{not json");
    assertEquals(2, json.status());
    assertTrue(json.err().startsWith("odin-ws: configuration is not valid JSON"), json.err());
  }

  /** The server's own command lines are recognised without picocli; everything else goes to picocli. */
  @Test
  void onlyTheServersOwnCommandLinesSkipPicocli() {
    assertEquals("", Main.plainServerConf(new String[0]));
    for (String[] args : List.of(new String[] {"-conf", "a.json"}, new String[] {"--conf", "a.json"},
        new String[] {"-conf=a.json"}, new String[] {"--conf=a.json"})) {
      assertEquals("a.json", Main.plainServerConf(args), String.join(" ", args));
    }
    for (String[] args : List.of(new String[] {"--help"}, new String[] {"-conf"}, new String[] {"-conf", "--help"},
        new String[] {"-conf", ""}, new String[] {"--conf="}, new String[] {"-conf", "a.json", "extra"}, new String[] {"publish"},
        new String[] {"cds-training"}, new String[] {"-c", "a.json"}, new String[] {"-confx=a.json"})) {
      assertEquals(null, Main.plainServerConf(args), String.join(" ", args));
    }
  }

  /** Without picocli the server's start says what it says through picocli, with the same exit status. */
  @Test
  void theStartWithoutPicocliAnswersAsPicocliDoes() {
    for (String conf : List.of("{\"mode\":\"nonsense\"}", "/nonexistent/odin-ws.json", "{not json")) {
      Run viaPicocli = run("-conf", conf);
      StringWriter err = new StringWriter();
      int status = Main.runServer(conf, new PrintWriter(err, true), CommandLine.ExitCode.USAGE);
      assertEquals(viaPicocli.status(), status, conf);
      assertEquals(viaPicocli.err(), err.toString(), conf);
    }
  }

  /** The public port is bound first (before Vert.x starts): a port in use ends the start at once, saying so. */
  @Test
  void aPortInUseEndsTheStartAtOnce() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
      int port = taken.getLocalPort();
      Run r = run("-conf", "{\"http\":{\"host\":\"127.0.0.1\",\"port\":" + port + "},\"ops\":{\"port\":-1}}");
      assertEquals(1, r.status(), r.err());
      assertTrue(r.err().startsWith("odin-ws: cannot listen on 127.0.0.1:" + port), r.err());
    }
  }

  /** The server jar leaves the tools out: their commands say where they are instead. */
  @Test
  void aToolMissingFromTheJarSaysWhereItIs() {
    CommandLine serverJar = Main.commandLine(List.of(new Main.Tool("publish", "io.odinws.tools.NoSuchCommand")));
    for (String[] args : List.of(new String[] {"publish"}, new String[] {"publish", "--rate", "5", "--help"})) {
      Run r = run(serverJar, args);
      assertEquals(2, r.status());
      assertTrue(r.err().contains("'publish' is in odin-ws-tools.jar"), r.err());
    }
  }

  @Test
  void theToolsAreCommandsWhereTheirClassesArePresent() {
    Run publish = run("publish", "--help");
    assertEquals(0, publish.status(), publish.err());
    assertTrue(publish.out().contains("Usage: odin-ws publish"), publish.out());
    assertTrue(publish.out().contains("--rate"), publish.out());
    Run loadtest = run("loadtest", "--help");
    assertEquals(0, loadtest.status(), loadtest.err());
    assertTrue(loadtest.out().contains("Usage: odin-ws loadtest"), loadtest.out());
    assertTrue(loadtest.out().contains("--nchan-publish"), loadtest.out());
    Run bad = run("loadtest", "--connections", "5", "--connections", "0");
    assertEquals(2, bad.status());
    assertTrue(bad.err().startsWith("odin-ws loadtest: --connections must be 1..500000, got 0"), "the last one wins: " + bad.err());
  }
}
