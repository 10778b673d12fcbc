package io.odinws.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/** The project's own files as the deployment tests read them: repository root, YAML, JSON, the pom; the tools they run. */
final class DeployFiles {

  static final ObjectMapper JSON = new ObjectMapper();
  static final YAMLMapper YAML = new YAMLMapper();

  /** Configuration subtrees whose keys are data, not configuration keys (topic names). */
  static final List<String> FREE_FORM_KEYS = List.of("kafka.topics", "auth.privateTopics");

  private DeployFiles() {
  }

  /** The directory holding pom.xml (the tests run from it; walk up in case they do not). */
  static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("pom.xml")) && Files.isDirectory(d.resolve("src/main"))) {
        return d;
      }
    }
    throw new IllegalStateException("no pom.xml above " + dir);
  }

  static Path path(String relative) {
    return root().resolve(relative);
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every YAML document of a file; empty documents (a trailing {@code ---}) are left out. */
  static List<JsonNode> yamlDocuments(Path file) {
    return yamlDocuments(read(file), root().relativize(file.toAbsolutePath()).toString());
  }

  /**
   * Every YAML document of a text. Read document by document from the parser: a mapper's
   * readValues would unwrap a top-level sequence (a JSON 6902 patch) into its elements.
   */
  static List<JsonNode> yamlDocuments(String text, String where) {
    List<JsonNode> docs = new ArrayList<>();
    try (JsonParser parser = YAML.getFactory().createParser(text)) {
      while (parser.nextToken() != null) {
        JsonNode doc = YAML.readTree(parser);
        if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
          docs.add(doc);
        }
      }
    } catch (IOException e) {
      fail(where + " is not valid YAML: " + e.getMessage());
    }
    return docs;
  }

  static JsonNode json(String text, String where) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      return fail(where + " is not valid JSON: " + e.getMessage());
    }
  }

  /** The built-in defaults, src/main/resources/conf/default.json: every configuration key. */
  static ObjectNode defaults() {
    return (ObjectNode) json(read(path("src/main/resources/conf/default.json")), "default.json");
  }

  /** {@code http.port} of default.json. */
  static int defaultPort() {
    return defaults().path("http").path("port").asInt();
  }

  /** {@code ops.port} of default.json: where probes and scrapes go. */
  static int defaultOpsPort() {
    return defaults().path("ops").path("port").asInt();
  }

  /**
   * Dotted key paths of a configuration object: leaves and objects ({@code "http"}, {@code "http.port"}, ...).
   * Children of {@link #FREE_FORM_KEYS} are not listed.
   */
  static TreeSet<String> keyPaths(JsonNode config) {
    TreeSet<String> paths = new TreeSet<>();
    collect(config, "", paths);
    return paths;
  }

  private static void collect(JsonNode node, String prefix, TreeSet<String> out) {
    if (!node.isObject() || FREE_FORM_KEYS.contains(prefix)) {
      return;
    }
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> e = fields.next();
      String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      out.add(key);
      collect(e.getValue(), key, out);
    }
  }

  // ---- tools ----------------------------------------------------------------------------------

  /** What a tool printed, and its exit code. */
  record Output(int exitCode, String stdout, String stderr) {
  }

  /**
   * Runs one of the tools that .ci/test-tools installs, for at most {@code seconds}. A missing tool
   * fails the test instead of skipping it: a machine without the tool must not pass.
   */
  static Output run(List<String> command, Map<String, String> env, int seconds) {
    String cmd = String.join(" ", command);
    Path out = null;
    Path err = null;
    try {
      // output to files: a pipe that nobody reads while waiting would block a verbose tool
      out = Files.createTempFile("odin-deploy-test", ".out");
      err = Files.createTempFile("odin-deploy-test", ".err");
      ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
      pb.environment().putAll(env);
      Process p;
      try {
        p = pb.start();
      } catch (IOException e) {
        return fail(command.get(0) + " is not installed (" + e.getMessage() + "); `make test-tools` (.ci/test-tools) installs it");
      }
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        return fail(cmd + " did not finish in " + seconds + " s");
      }
      return new Output(p.exitValue(), Files.readString(out), Files.readString(err));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail(cmd + " interrupted");
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      if (file != null) {
        Files.deleteIfExists(file);
      }
    } catch (IOException ignored) {
      // a temporary file; nothing depends on it
    }
  }

  // ---- pom.xml --------------------------------------------------------------------------------

  static Document pom() {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(false);
      return f.newDocumentBuilder().parse(path("pom.xml").toFile());
    } catch (Exception e) {
      return fail("pom.xml cannot be parsed: " + e);
    }
  }

  /**
   * The server jar the build produces, relative to the project directory (e.g. {@code target/odin-ws.jar}):
   * the {@code outputFile} of the maven-shade-plugin execution that leaves out the tools
   * ({@code io/odinws/tools/**}), or of the only shade execution.
   */
  static String serverJar() {
    Document pom = pom();
    NodeList plugins = pom.getElementsByTagName("plugin");
    List<Element> executions = new ArrayList<>();
    for (int i = 0; i < plugins.getLength(); i++) {
      Element plugin = (Element) plugins.item(i);
      if ("maven-shade-plugin".equals(childText(plugin, "artifactId"))) {
        NodeList ex = plugin.getElementsByTagName("execution");
        for (int j = 0; j < ex.getLength(); j++) {
          executions.add((Element) ex.item(j));
        }
      }
    }
    List<Element> withOutput = executions.stream().filter(e -> e.getElementsByTagName("outputFile").getLength() > 0).toList();
    if (withOutput.isEmpty()) {
      fail("pom.xml: no maven-shade-plugin execution with an <outputFile>; the Dockerfile test cannot tell which jar the build produces");
    }
    Element server = withOutput.stream()
        .filter(e -> e.getTextContent().contains("io/odinws/tools/**"))
        .findFirst()
        .orElseGet(() -> withOutput.size() == 1 ? withOutput.get(0)
            : withOutput.stream().filter(e -> String.valueOf(childText(e, "id")).contains("server")).findFirst()
                .orElseGet(() -> fail("pom.xml: cannot tell which shade execution builds the server jar")));
    String output = server.getElementsByTagName("outputFile").item(0).getTextContent().strip();
    return resolvePomProperties(pom, output);
  }

  private static String resolvePomProperties(Document pom, String value) {
    Element project = pom.getDocumentElement();
    Map<String, String> props = Map.of(
        "project.build.directory", "target",
        "project.basedir", ".",
        "basedir", ".",
        "project.artifactId", String.valueOf(childText(project, "artifactId")),
        "project.version", String.valueOf(childText(project, "version")));
    Matcher m = Pattern.compile("\\$\\{([^}]+)}").matcher(value);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String v = props.get(m.group(1));
      if (v == null) {
        fail("pom.xml: property ${" + m.group(1) + "} in " + value + " is not known to the deployment test; extend DeployFiles");
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    return Path.of(sb.toString()).normalize().toString().replace('\\', '/');
  }

  /** {@code maven.compiler.release} of the pom (the Java version the images must run). */
  static int javaRelease() {
    NodeList n = pom().getElementsByTagName("maven.compiler.release");
    return n.getLength() == 0 ? 17 : Integer.parseInt(n.item(0).getTextContent().strip());
  }

  private static String childText(Element parent, String tag) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(tag)) {
        return e.getTextContent().strip();
      }
    }
    return null;
  }
}
