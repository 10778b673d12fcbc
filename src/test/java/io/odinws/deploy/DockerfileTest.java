package io.odinws.deploy;

import io.odinws.config.ConfigLoader;
import io.odinws.deploy.DockerfileModel.Copy;
import io.odinws.deploy.DockerfileModel.Instruction;
import io.odinws.deploy.DockerfileModel.Stage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Dockerfile against the rest of the project: the jar the pom builds, the command the README
 * documents, the port of default.json, the health paths the server serves, and the Kubernetes
 * ConfigMap mount; and against a Dockerfile linter.
 *
 * <p>Read by the Dockerfile language server's parser and checked by its linter (npm dockerfile-ast
 * 0.7.1 and dockerfile-utils 0.16.3, see {@link DockerfileModel}), not by Docker's own: the build
 * machines run no Docker engine (so no {@code docker build --check}), and hadolint cannot be
 * installed here: Debian (bookworm) has no hadolint package, and npm's "hadolint" (0.4.2) is a
 * wrapper that downloads the binary from GitHub, which the machines cannot reach. Debian's other
 * Dockerfile packages are an Emacs mode, openshift-imagebuilder (builds through a Docker engine) and
 * Rust sources. The shell command of the ENTRYPOINT is split into words here: it must be one plain
 * {@code exec java ...}, which startCommand checks.
 */
class DockerfileTest {

  static final Set<String> SERVED_HEALTH_PATHS = Set.of("/health/live", "/health");
  static final Set<String> SHELLS = Set.of("sh", "/bin/sh", "bash", "/bin/bash");
  /** Temurin's Ubuntu images install curl and wget (adoptium/containers, "curl required for historical reasons"). */
  static final Pattern TEMURIN_UBUNTU = Pattern.compile("eclipse-temurin:\\d+(\\.[\\d.]+)?(_\\d+)?-jre(-(jammy|noble|focal))?");

  final DockerfileModel docker = DockerfileModel.parse(DeployFiles.path("Dockerfile"));

  @Test
  void buildStageCachesDependenciesBeforeCopyingSourcesThenPackages() {
    Stage build = buildStage(docker);
    List<Instruction> ins = build.instructions();
    int pom = indexOf(build, "COPY", i -> DockerfileModel.copy(i).sources().stream().anyMatch(s -> s.matches("(.*/)?pom\\.xml")));
    int goOffline = indexOf(build, "RUN", i -> i.text().contains("mvn") && i.text().contains("dependency:go-offline"));
    int sources = indexOf(build, "COPY", i -> DockerfileModel.copy(i).sources().stream().anyMatch(s -> s.matches("\\.?/?src/?")));
    int pkg = indexOf(build, "RUN", i -> i.text().contains("mvn") && i.text().matches(".*\\b(package|install|verify)\\b.*"));
    assertTrue(pom >= 0 && goOffline > pom, "build stage: COPY pom.xml, then RUN mvn dependency:go-offline: " + ins);
    assertTrue(sources > goOffline, "build stage: sources are copied after the dependencies are cached: " + ins);
    assertTrue(pkg > sources, "build stage: RUN mvn package after copying the sources: " + ins);
  }

  /** The image serves the pages (issue 16): Maven builds them with npm, so the build stage has Node and clients/. */
  @Test
  void buildStageHasNodeAndTheClientsBeforePackaging() {
    Stage build = buildStage(docker);
    int node = indexOf(build, "RUN", i -> i.text().matches("(?s).*\\bapt-get\\b.*\\binstall\\b.*\\bnodejs\\b.*") && i.text().matches("(?s).*\\bnpm\\b.*"));
    int clients = indexOf(build, "COPY", i -> DockerfileModel.copy(i).sources().stream().anyMatch(s -> s.matches("\\.?/?clients/?")));
    int pkg = indexOf(build, "RUN", i -> i.text().contains("mvn") && i.text().matches(".*\\b(package|install|verify)\\b.*"));
    assertTrue(node >= 0 && node < pkg, "build stage: apt-get install nodejs npm before mvn package: " + build.instructions());
    assertTrue(clients >= 0 && clients < pkg, "build stage: COPY clients before mvn package: " + build.instructions());
  }

  @Test
  void runtimeStageCopiesTheJarThePomBuilds() {
    String jar = DeployFiles.serverJar(); // e.g. target/odin-ws.jar, from the shade plugin's outputFile
    Stage build = buildStage(docker);
    String expected = Path.of(build.workdir()).resolve(jar).normalize().toString();
    Copy copy = artifactCopy(docker);
    assertEquals(expected, absolute(copy.sources().get(0), "/"),
        "the runtime stage copies " + jar + " (the pom's server jar) from the build stage's " + build.workdir());
    assertEquals(jarPath(docker), destination(docker, copy),
        "ENTRYPOINT runs the jar the runtime stage copied");
  }

  @Test
  void entrypointStartsTheCommandTheReadmeDocumentsWithJavaAsPid1() {
    List<String> start = startCommand(docker); // fails unless java is exec'd
    String normalized = String.join(" ", start);
    String readme = DeployFiles.read(DeployFiles.path("README.md"));
    String jarName = Path.of(DeployFiles.serverJar()).getFileName().toString();
    Matcher m = Pattern.compile("java(?:\\s+-[^\\s`]+)*?\\s+-jar\\s+([^\\s`]*" + Pattern.quote(jarName) + ")((?:\\s+-conf\\s+[^\\s`]+)?)")
        .matcher(readme);
    List<String> documented = new ArrayList<>();
    List<String> container = new ArrayList<>();
    while (m.find()) {
      String cmd = ("java -jar " + m.group(1) + m.group(2)).replaceAll("\\s+", " ");
      documented.add(cmd);
      if (m.group(1).startsWith("/")) {
        container.add(cmd);
      }
    }
    assertFalse(documented.isEmpty(), "README.md documents no `java -jar .../" + jarName + "` command");
    assertTrue(documented.stream().anyMatch(d -> d.contains(" -conf ")), "README.md documents no `-conf` for " + jarName);
    assertEquals(jarName, Path.of(start.get(2)).getFileName().toString(), "the image runs the jar the README documents");
    assertTrue(normalized.matches("java -jar \\S+ -conf \\S+"), "the image runs `java [JVM options] -jar <jar> -conf <file>`: " + normalized);
    if (!container.isEmpty()) {
      assertTrue(container.contains(normalized), "README.md documents the container command as " + container
          + " but the Dockerfile runs " + normalized + " (JVM options aside)");
    }
  }

  @Test
  void runsAsANonRootNumericUser() {
    int uid = userId(docker);
    assertNotEquals(0, uid, "the runtime stage runs as root");
  }

  @Test
  void exposesTheServersPorts() {
    List<String> exposed = new ArrayList<>();
    docker.runtime().all("EXPOSE").forEach(i -> exposed.addAll(i.arguments()));
    for (int port : List.of(DeployFiles.defaultPort(), DeployFiles.defaultOpsPort())) {
      assertTrue(exposed.contains(String.valueOf(port)) || exposed.contains(port + "/tcp"),
          "EXPOSE " + port + " (http.port and ops.port of default.json); exposed: " + exposed);
    }
  }

  @Test
  void healthcheckAsksAPathTheServerServesWithAToolTheImageHas() {
    Instruction hc = docker.runtime().last("HEALTHCHECK").orElseGet(() -> fail("the runtime stage has no HEALTHCHECK"));
    assertNotEquals("NONE", hc.subcommand(), "HEALTHCHECK NONE");
    assertEquals("CMD", hc.subcommand(), "HEALTHCHECK [options] CMD ...: " + hc);
    List<String> command = hc.command();
    String script = String.join(" ", command);
    Matcher url = Pattern.compile("https?://(?:127\\.0\\.0\\.1|localhost):(\\d+|\\$\\{(\\w+):-(\\d+)})(/[^\\s\"'?]*)").matcher(script);
    assertTrue(url.find(), "HEALTHCHECK asks http://127.0.0.1:<port>/<path>: " + hc);
    int port = Integer.parseInt(url.group(2) == null ? url.group(1) : url.group(3));
    // the operations port: on the public port a health check waits behind the shards' fan-out
    assertEquals(DeployFiles.defaultOpsPort(), port, "HEALTHCHECK port is ops.port of default.json");
    if (url.group(2) != null) {
      assertEquals("ops.port", KubernetesManifestsTest.envKeys().get(url.group(2)),
          "HEALTHCHECK's ${" + url.group(2) + "} must be the environment variable that sets ops.port");
    }
    assertTrue(SERVED_HEALTH_PATHS.contains(url.group(4)), "HEALTHCHECK path " + url.group(4) + " is not one of " + SERVED_HEALTH_PATHS);

    List<String> words = List.of((SHELLS.contains(command.get(0)) && command.size() > 2 ? command.get(2) : command.get(0)).strip().split("\\s+"));
    String tool = Path.of(words.get(0)).getFileName().toString();
    boolean installed = docker.runtime().all("RUN").stream()
        .anyMatch(r -> r.text().matches(".*\\b(apt-get|apt|apk|microdnf|dnf|yum)\\b.*\\b(install|add)\\b.*\\b" + Pattern.quote(tool) + "\\b.*"));
    boolean inBase = Set.of("curl", "wget").contains(tool) && TEMURIN_UBUNTU.matcher(docker.runtime().image()).matches();
    assertTrue(installed || inBase || tool.equals("java"),
        "HEALTHCHECK runs " + tool + ", which " + docker.runtime().image() + " may not have; install it in the runtime stage");
  }

  @Test
  void configurationFileIsInTheImageAndIsWhereKubernetesMountsTheConfigMap() {
    String conf = confPath(docker);
    assertTrue(conf.startsWith("/"), "-conf takes an absolute path: " + conf);
    Copy copy = docker.runtime().all("COPY").stream().map(DockerfileModel::copy)
        .filter(c -> c.from() == null && conf.equals(destination(docker, c)))
        .findFirst()
        .orElseGet(() -> fail("the image has no file at " + conf + " (the -conf argument): COPY one, so it runs without Kubernetes"));
    Path source = DeployFiles.path(copy.sources().get(0));
    assertTrue(Files.isRegularFile(source), copy.instruction() + ": " + source + " does not exist");
    ConfigLoader.resolve(new JsonObject(DeployFiles.read(source)), Map.of()); // throws ConfigException if invalid

    for (Path dir : KubernetesManifestsTest.kustomizations()) {
      KubernetesManifestsTest.assertConfigMounted(KubernetesManifestsTest.render(dir), conf);
    }
  }

  @Test
  void theImageWritesTheClassDataArchiveItsJvmOptionsName() {
    String opts = docker.runtime().all("ENV").stream().map(e -> e.properties().get("JAVA_OPTS")).filter(Objects::nonNull)
        .reduce((earlier, later) -> later)
        .orElseGet(() -> fail("the runtime stage sets ENV JAVA_OPTS=\"...\""));
    Matcher shared = Pattern.compile("-XX:SharedArchiveFile=(\\S+)").matcher(opts);
    assertTrue(shared.find(), "JAVA_OPTS starts the server with its class-data sharing archive: " + opts);
    String archive = shared.group(1);
    String jar = jarPath(docker);
    boolean written = docker.runtime().all("RUN").stream().map(Instruction::text).anyMatch(run ->
        run.contains("-XX:ArchiveClassesAtExit=" + archive) && run.contains("-jar " + jar + " cds-training"));
    assertTrue(written, "a RUN step writes " + archive + " with `java -XX:ArchiveClassesAtExit=" + archive + " -jar " + jar
        + " cds-training` (same jar path as the ENTRYPOINT, or the JVM ignores the archive)");
  }

  @Test
  void imagesRunTheJavaVersionThePomCompilesFor() {
    int release = DeployFiles.javaRelease();
    for (Stage s : docker.stages) {
      Matcher m = Pattern.compile("temurin[-:](\\d+)").matcher(s.image());
      assertTrue(m.find(), "stage " + s.index() + " (" + s.image() + "): expected an Eclipse Temurin based image");
      assertTrue(Integer.parseInt(m.group(1)) >= release, s.image() + " is older than Java " + release + " (maven.compiler.release)");
    }
    assertTrue(docker.stages.size() >= 2, "multi-stage: a build stage and a runtime stage");
  }

  @Test
  void theDockerfileLinterReportsNothing() {
    assertTrue(docker.problems.isEmpty(), "dockerfile-utils lint Dockerfile: " + docker.problems);
  }

  @Test
  void dockerignoreKeepsTheBuildInputsAndDropsBuildOutput() {
    Path file = DeployFiles.path(".dockerignore");
    assertTrue(Files.isRegularFile(file), ".dockerignore is missing (the context would carry target/ and .git)");
    List<String> rules = DeployFiles.read(file).lines().map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    for (String needed : List.of("pom.xml", "src", "src/", "src/main", "*", "**")) {
      assertFalse(rules.contains(needed) || rules.contains("/" + needed), ".dockerignore excludes " + needed + ", which the build needs");
    }
    assertTrue(rules.stream().anyMatch(r -> r.matches("/?target/?")), ".dockerignore leaves out target/");
    assertTrue(rules.stream().anyMatch(r -> r.matches("/?\\.git/?")), ".dockerignore leaves out .git");
  }

  // ---- reading the Dockerfile (shared with KubernetesManifestsTest) -------------------------------

  /** The server's command without JVM options: {@code java -jar <jar> -conf <file>}. Fails unless java ends up as PID 1. */
  static List<String> startCommand(DockerfileModel docker) {
    Stage runtime = docker.runtime();
    Instruction entry = runtime.last("ENTRYPOINT").or(() -> runtime.last("CMD"))
        .orElseGet(() -> fail("the runtime stage has neither ENTRYPOINT nor CMD"));
    List<String> cmd = entry.command();
    List<String> words;
    if (SHELLS.contains(cmd.get(0)) && cmd.size() >= 3 && cmd.get(1).equals("-c")) {
      String script = cmd.get(2).strip();
      assertTrue(script.startsWith("exec "), entry + ": the shell must `exec java ...`, so the JVM is PID 1 and receives SIGTERM");
      assertFalse(script.matches(".*(;|&&|\\|\\||\\|).*"), entry + ": run nothing but `exec java ...`");
      words = new ArrayList<>(List.of(script.substring(5).strip().split("\\s+")));
      if (cmd.size() > 3) {
        words.addAll(cmd.subList(3, cmd.size()));
      }
    } else {
      words = new ArrayList<>(cmd);
    }
    String java = words.remove(0);
    assertTrue(java.equals("java") || java.endsWith("/java"), entry + ": starts " + java + ", not java");
    while (!words.isEmpty() && !words.get(0).equals("-jar")) {
      String opt = words.remove(0);
      assertTrue(opt.startsWith("-") || opt.matches("\"?\\$\\{?\\w+}?\"?"), entry + ": unexpected " + opt + " before -jar");
    }
    assertFalse(words.isEmpty(), entry + ": no -jar");
    List<String> out = new ArrayList<>();
    out.add("java");
    out.addAll(words);
    return out;
  }

  static String jarPath(DockerfileModel docker) {
    List<String> cmd = startCommand(docker);
    assertTrue(cmd.size() >= 3, "java -jar <jar>: " + cmd);
    return cmd.get(2);
  }

  /** The {@code -conf} argument of the server's command. */
  static String confPath(DockerfileModel docker) {
    List<String> cmd = startCommand(docker);
    int i = cmd.indexOf("-conf");
    assertTrue(i > 0 && i + 1 < cmd.size(), "the image passes -conf <file>: " + cmd);
    return cmd.get(i + 1);
  }

  /** Numeric uid of the runtime stage's USER (numeric, so Kubernetes can verify runAsNonRoot). */
  static int userId(DockerfileModel docker) {
    String user = docker.runtime().last("USER").map(Instruction::text)
        .orElseGet(() -> fail("the runtime stage sets no USER: it would run as root"));
    String uid = user.split(":")[0];
    assertFalse(uid.equals("root"), "USER root");
    assertTrue(uid.matches("\\d+"), "USER " + user + ": use a numeric uid, or Kubernetes cannot verify runAsNonRoot");
    return Integer.parseInt(uid);
  }

  static Stage buildStage(DockerfileModel docker) {
    Copy copy = artifactCopy(docker);
    return docker.stage(copy.from()).orElseGet(() -> fail(copy.instruction() + ": --from=" + copy.from() + " is no stage of the Dockerfile"));
  }

  /** The runtime stage's COPY --from=... of a jar. */
  static Copy artifactCopy(DockerfileModel docker) {
    return docker.runtime().all("COPY").stream().map(DockerfileModel::copy)
        .filter(c -> c.from() != null && c.sources().size() == 1 && c.sources().get(0).endsWith(".jar"))
        .findFirst()
        .orElseGet(() -> fail("the runtime stage copies no jar from the build stage (COPY --from=build ... .jar)"));
  }

  /** Where a COPY puts its (single) source in the runtime image. */
  static String destination(DockerfileModel docker, Copy copy) {
    String workdir = workdirAt(docker.runtime(), copy.instruction());
    String dest = copy.destination();
    String abs = absolute(dest, workdir);
    if (dest.endsWith("/")) {
      abs = abs + "/" + Path.of(copy.sources().get(0)).getFileName();
    }
    return Path.of(abs).normalize().toString();
  }

  private static String workdirAt(Stage stage, Instruction at) {
    String workdir = "/";
    for (Instruction i : stage.instructions()) {
      if (i == at) {
        break;
      }
      if (i.keyword().equals("WORKDIR")) {
        workdir = absolute(i.text(), workdir);
      }
    }
    return workdir;
  }

  private static String absolute(String path, String base) {
    return Path.of(base).resolve(path).normalize().toString();
  }

  private static int indexOf(Stage stage, String keyword, Predicate<Instruction> which) {
    Optional<Instruction> found = stage.all(keyword).stream().filter(which).findFirst();
    return found.map(stage::indexOf).orElse(-1);
  }
}
