package io.odinws.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Dockerfile as the parser of the Dockerfile language server reads it (npm dockerfile-ast, run
 * by dockerfile-ast.cjs beside this class; .ci/test-tools installs it): instructions grouped by
 * build stage, and the problems its linter (dockerfile-utils) reports. The one reading of the
 * Dockerfile that the deployment tests share.
 */
final class DockerfileModel {

  /**
   * One instruction. {@code arguments} are its words, flags left out; {@code properties} the
   * name/value pairs of ENV, ARG and LABEL; {@code exec} the exec form (JSON array) of RUN, CMD,
   * ENTRYPOINT, COPY and HEALTHCHECK CMD, {@code shell} their other form.
   */
  record Instruction(int line, String keyword, List<String> arguments, Map<String, String> flags,
                     Map<String, String> properties, String subcommand, List<String> exec, String shell) {

    /** The arguments as one line (continuations joined, blanks collapsed). */
    String text() {
      return String.join(" ", arguments);
    }

    /** The command it runs: the exec form as written, the shell form wrapped in {@code /bin/sh -c}. */
    List<String> command() {
      if (exec != null) {
        return exec;
      }
      if (shell == null) {
        return fail("Dockerfile " + this + ": runs no command");
      }
      return List.of("/bin/sh", "-c", shell);
    }

    @Override
    public String toString() {
      return "line " + line + ": " + keyword + " " + text();
    }
  }

  record Stage(int index, String image, String name, List<Instruction> instructions) {

    List<Instruction> all(String keyword) {
      return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    Optional<Instruction> last(String keyword) {
      List<Instruction> list = all(keyword);
      return list.isEmpty() ? Optional.empty() : Optional.of(list.get(list.size() - 1));
    }

    int indexOf(Instruction i) {
      return instructions.indexOf(i);
    }

    /** The stage's final WORKDIR, "/" when none. */
    String workdir() {
      return last("WORKDIR").map(Instruction::text).orElse("/");
    }
  }

  /** A COPY/ADD: the stage it copies from ({@code --from}), sources, destination. */
  record Copy(Instruction instruction, String from, List<String> sources, String destination) {
  }

  /** What the linter reports: severity error, warning, information or hint. */
  record Problem(int line, String severity, String message) {
  }

  private static final Path SCRIPT = DeployFiles.path("src/test/java/io/odinws/deploy/dockerfile-ast.cjs");
  /** Parsed files: a run of Node takes a while, and the Dockerfile does not change during the tests. */
  private static final Map<Path, DockerfileModel> PARSED = new ConcurrentHashMap<>();
  private static volatile String globalModules;

  final List<Stage> stages;
  final List<Problem> problems;

  private DockerfileModel(List<Stage> stages, List<Problem> problems) {
    this.stages = stages;
    this.problems = problems;
  }

  static DockerfileModel parse(Path file) {
    return PARSED.computeIfAbsent(file.toAbsolutePath().normalize(), DockerfileModel::read);
  }

  private static DockerfileModel read(Path file) {
    // npm install -g puts the modules where node does not look by itself
    DeployFiles.Output out = DeployFiles.run(List.of("node", SCRIPT.toString(), file.toString()), Map.of("NODE_PATH", globalModules()), 120);
    assertEquals(0, out.exitCode(), "node dockerfile-ast.cjs " + file + " failed (`make test-tools` installs dockerfile-ast and dockerfile-utils): " + out.stderr());
    JsonNode json = DeployFiles.json(out.stdout(), "dockerfile-ast.cjs output");
    List<Stage> stages = new ArrayList<>();
    for (JsonNode s : json.path("stages")) {
      List<Instruction> instructions = new ArrayList<>();
      s.path("instructions").forEach(i -> instructions.add(instruction(i)));
      stages.add(new Stage(stages.size(), s.path("image").asText(), s.path("name").textValue(), List.copyOf(instructions)));
    }
    if (stages.isEmpty()) {
      fail("Dockerfile has no FROM");
    }
    List<Problem> problems = new ArrayList<>();
    json.path("problems").forEach(p -> problems.add(new Problem(p.path("line").asInt(), p.path("severity").asText(), p.path("message").asText())));
    return new DockerfileModel(List.copyOf(stages), List.copyOf(problems));
  }

  private static Instruction instruction(JsonNode i) {
    return new Instruction(i.path("line").asInt(), i.path("keyword").asText(), strings(i.path("arguments")), map(i.path("flags")),
        map(i.path("properties")), i.path("subcommand").textValue(), i.has("exec") ? strings(i.get("exec")) : null,
        i.path("shell").textValue());
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return List.copyOf(out);
  }

  private static Map<String, String> map(JsonNode object) {
    Map<String, String> out = new LinkedHashMap<>();
    object.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText())); // --link: no value
    return Collections.unmodifiableMap(out);
  }

  private static String globalModules() {
    if (globalModules == null) {
      DeployFiles.Output out = DeployFiles.run(List.of("npm", "root", "-g"), Map.of(), 120);
      assertEquals(0, out.exitCode(), "npm root -g failed: " + out.stderr());
      globalModules = out.stdout().strip();
    }
    return globalModules;
  }

  Stage runtime() {
    return stages.get(stages.size() - 1);
  }

  Optional<Stage> stage(String nameOrIndex) {
    return stages.stream()
        .filter(s -> nameOrIndex.equals(s.name()) || nameOrIndex.equals(String.valueOf(s.index())))
        .findFirst();
  }

  static Copy copy(Instruction ins) {
    List<String> words = ins.exec() != null ? ins.exec() : ins.arguments();
    if (words.size() < 2) {
      fail("Dockerfile " + ins + ": COPY needs a source and a destination");
    }
    return new Copy(ins, ins.flags().get("from"), List.copyOf(words.subList(0, words.size() - 1)), words.get(words.size() - 1));
  }
}
