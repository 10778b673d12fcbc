package io.odinws.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A Dockerfile read as text: instructions (continuation lines joined, comments dropped) grouped by
 * build stage. Enough of the format for the deployment tests, not a general parser.
 */
final class DockerfileModel {

  record Instruction(int line, String keyword, String args) {
    @Override
    public String toString() {
      return "line " + line + ": " + keyword + " " + args;
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
      return last("WORKDIR").map(Instruction::args).map(String::strip).orElse("/");
    }
  }

  /** A COPY/ADD: options such as {@code --from=build}, sources, destination. */
  record Copy(Instruction instruction, String from, List<String> sources, String destination) {
  }

  final List<Stage> stages = new ArrayList<>();

  static DockerfileModel parse(Path file) {
    return parse(DeployFiles.read(file));
  }

  static DockerfileModel parse(String text) {
    DockerfileModel model = new DockerfileModel();
    String[] lines = text.split("\r?\n", -1);
    StringBuilder current = null;
    int startLine = 0;
    Stage stage = null;
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n];
      String trimmed = line.strip();
      if (trimmed.startsWith("#")) {
        continue; // comments (also inside continuations) and parser directives
      }
      if (current == null) {
        if (trimmed.isEmpty()) {
          continue;
        }
        current = new StringBuilder();
        startLine = n + 1;
      }
      boolean continues = trimmed.endsWith("\\");
      current.append(continues ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
      if (continues) {
        continue;
      }
      String instruction = current.toString().strip().replaceAll("\\s+", " ");
      current = null;
      int sp = instruction.indexOf(' ');
      String keyword = (sp < 0 ? instruction : instruction.substring(0, sp)).toUpperCase();
      String args = sp < 0 ? "" : instruction.substring(sp + 1).strip();
      Instruction ins = new Instruction(startLine, keyword, args);
      if (keyword.equals("FROM")) {
        String[] parts = args.split(" ");
        int i = 0;
        while (i < parts.length && parts[i].startsWith("--")) {
          i++;
        }
        String image = parts[i];
        String name = (parts.length >= i + 3 && parts[i + 1].equalsIgnoreCase("AS")) ? parts[i + 2] : null;
        stage = new Stage(model.stages.size(), image, name, new ArrayList<>());
        model.stages.add(stage);
      } else if (stage == null) {
        if (!keyword.equals("ARG")) {
          fail("Dockerfile " + ins + " comes before the first FROM");
        }
        continue;
      }
      stage.instructions().add(ins);
    }
    if (model.stages.isEmpty()) {
      fail("Dockerfile has no FROM");
    }
    return model;
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
    List<String> words = new ArrayList<>(List.of(ins.args().split(" ")));
    String from = null;
    while (!words.isEmpty() && words.get(0).startsWith("--")) {
      String opt = words.remove(0);
      if (opt.startsWith("--from=")) {
        from = opt.substring("--from=".length());
      }
    }
    if (!words.isEmpty() && words.get(0).startsWith("[")) {
      words = new ArrayList<>(stringArray(String.join(" ", words), ins));
    }
    if (words.size() < 2) {
      fail("Dockerfile " + ins + ": COPY needs a source and a destination");
    }
    return new Copy(ins, from, List.copyOf(words.subList(0, words.size() - 1)), words.get(words.size() - 1));
  }

  /** ENTRYPOINT/CMD/RUN argument as a command: exec form as written, shell form wrapped in {@code /bin/sh -c}. */
  static List<String> command(Instruction ins) {
    String args = ins.args();
    if (args.startsWith("[")) {
      return stringArray(args, ins);
    }
    return List.of("/bin/sh", "-c", args);
  }

  private static List<String> stringArray(String json, Instruction ins) {
    JsonNode node = DeployFiles.json(json, "Dockerfile " + ins);
    if (!node.isArray()) {
      fail("Dockerfile " + ins + ": expected a JSON array");
    }
    List<String> out = new ArrayList<>();
    node.forEach(n -> out.add(n.asText()));
    return out;
  }
}
