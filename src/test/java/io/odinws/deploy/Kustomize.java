package io.odinws.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The part of kustomize that k8s/ uses, so the manifests can be checked without kubectl:
 * {@code resources} (files and directories), {@code configMapGenerator} (files, literals; behavior
 * create, merge, replace), {@code images}, and {@code patches} (strategic merge, including
 * {@code $patch: delete}, and JSON 6902 with a target). Anything else fails the test, so a new
 * kustomize feature in k8s/ is noticed here instead of silently ignored.
 *
 * <p>Differences from kustomize: generated ConfigMaps keep their plain name (no hash suffix),
 * and strategic merge knows only the list merge keys the Deployment uses. When kubectl is
 * installed, {@link KubernetesManifestsTest} compares this rendering with {@code kubectl kustomize}.
 */
final class Kustomize {

  private static final Set<String> KNOWN_FIELDS = Set.of("apiVersion", "kind", "resources", "configMapGenerator", "patches", "images");

  /** Every file a kustomization read (kustomization files, resources, patches, generator files). */
  final Set<Path> filesRead = new LinkedHashSet<>();

  /** The resources of {@code dir}'s kustomization, in order, as kustomize would output them (names unhashed). */
  List<ObjectNode> build(Path dir) {
    Path kfile = kustomizationFile(dir)
        .orElseGet(() -> fail(rel(dir) + " has no kustomization.yaml"));
    filesRead.add(kfile);
    List<JsonNode> docs = DeployFiles.yamlDocuments(kfile);
    if (docs.size() != 1 || !docs.get(0).isObject()) {
      fail(rel(kfile) + ": expected one YAML document");
    }
    JsonNode k = docs.get(0);
    k.fieldNames().forEachRemaining(f -> {
      if (!KNOWN_FIELDS.contains(f)) {
        fail(rel(kfile) + ": field '" + f + "' is not understood by the deployment test's kustomize subset (Kustomize.java); extend it");
      }
    });

    List<ObjectNode> out = new ArrayList<>();
    for (JsonNode r : k.path("resources")) {
      Path p = dir.resolve(r.asText()).normalize();
      if (Files.isDirectory(p)) {
        if (kustomizationFile(p).isEmpty()) {
          fail(rel(kfile) + ": resource " + r.asText() + " is a directory without kustomization.yaml");
        }
        out.addAll(build(p));
      } else if (Files.isRegularFile(p)) {
        filesRead.add(p);
        for (JsonNode doc : DeployFiles.yamlDocuments(p)) {
          if (!doc.isObject() || !doc.hasNonNull("kind") || !doc.path("metadata").hasNonNull("name")) {
            fail(rel(p) + ": every resource needs kind and metadata.name");
          }
          out.add((ObjectNode) doc);
        }
      } else {
        fail(rel(kfile) + ": resource " + r.asText() + " does not exist");
      }
    }

    for (JsonNode gen : k.path("configMapGenerator")) {
      generate(dir, kfile, gen, out);
    }
    for (JsonNode image : k.path("images")) {
      images(image, out);
    }
    for (JsonNode patch : k.path("patches")) {
      patch(dir, kfile, patch, out);
    }
    return out;
  }

  static Optional<Path> kustomizationFile(Path dir) {
    for (String name : List.of("kustomization.yaml", "kustomization.yml", "Kustomization")) {
      if (Files.isRegularFile(dir.resolve(name))) {
        return Optional.of(dir.resolve(name));
      }
    }
    return Optional.empty();
  }

  // ---- configMapGenerator -----------------------------------------------------------------------

  private void generate(Path dir, Path kfile, JsonNode gen, List<ObjectNode> out) {
    gen.fieldNames().forEachRemaining(f -> {
      if (!Set.of("name", "behavior", "files", "literals", "options").contains(f)) {
        fail(rel(kfile) + ": configMapGenerator field '" + f + "' is not understood by Kustomize.java");
      }
    });
    String name = gen.path("name").asText();
    String behavior = gen.path("behavior").asText("create");
    ObjectNode data = JsonNodeFactory.instance.objectNode();
    for (JsonNode f : gen.path("files")) {
      String spec = f.asText();
      int eq = spec.indexOf('=');
      String key = eq < 0 ? Path.of(spec).getFileName().toString() : spec.substring(0, eq);
      Path file = dir.resolve(eq < 0 ? spec : spec.substring(eq + 1)).normalize();
      if (!Files.isRegularFile(file)) {
        fail(rel(kfile) + ": configMapGenerator " + name + " file " + spec + " does not exist");
      }
      filesRead.add(file);
      data.put(key, DeployFiles.read(file));
    }
    for (JsonNode l : gen.path("literals")) {
      String spec = l.asText();
      int eq = spec.indexOf('=');
      if (eq <= 0) {
        fail(rel(kfile) + ": configMapGenerator " + name + " literal '" + spec + "' is not KEY=VALUE");
      }
      data.put(spec.substring(0, eq), spec.substring(eq + 1));
    }
    Optional<ObjectNode> existing = find(out, "ConfigMap", name);
    switch (behavior) {
      case "create" -> {
        if (existing.isPresent()) {
          fail(rel(kfile) + ": configMapGenerator " + name + " creates a ConfigMap that already exists (use behavior: merge or replace)");
        }
        ObjectNode cm = JsonNodeFactory.instance.objectNode();
        cm.put("apiVersion", "v1");
        cm.put("kind", "ConfigMap");
        cm.putObject("metadata").put("name", name);
        cm.set("data", data);
        out.add(cm);
      }
      case "merge", "replace" -> {
        ObjectNode cm = existing.orElseGet(() -> fail(rel(kfile) + ": configMapGenerator " + name
            + " (behavior " + behavior + ") names no ConfigMap of its resources"));
        if (behavior.equals("replace") || !cm.path("data").isObject()) {
          cm.set("data", data);
        } else {
          ((ObjectNode) cm.get("data")).setAll(data);
        }
      }
      default -> fail(rel(kfile) + ": configMapGenerator " + name + " behavior '" + behavior + "' is unknown");
    }
  }

  // ---- images -----------------------------------------------------------------------------------

  private static void images(JsonNode spec, List<ObjectNode> out) {
    String name = spec.path("name").asText();
    for (ObjectNode r : out) {
      for (JsonNode c : r.path("spec").path("template").path("spec").path("containers")) {
        String image = c.path("image").asText();
        int at = image.indexOf('@');
        int colon = image.lastIndexOf(':');
        boolean tagged = colon > image.lastIndexOf('/');
        String repo = at >= 0 ? image.substring(0, at) : tagged ? image.substring(0, colon) : image;
        String ref = at >= 0 ? image.substring(at) : tagged ? image.substring(colon) : "";
        if (!repo.equals(name)) {
          continue;
        }
        String newRepo = spec.hasNonNull("newName") ? spec.get("newName").asText() : repo;
        String newRef = spec.hasNonNull("digest") ? "@" + spec.get("digest").asText()
            : spec.hasNonNull("newTag") ? ":" + spec.get("newTag").asText() : ref;
        ((ObjectNode) c).put("image", newRepo + newRef);
      }
    }
  }

  // ---- patches ----------------------------------------------------------------------------------

  private void patch(Path dir, Path kfile, JsonNode spec, List<ObjectNode> out) {
    String where;
    String text;
    if (spec.hasNonNull("path")) {
      Path file = dir.resolve(spec.get("path").asText()).normalize();
      if (!Files.isRegularFile(file)) {
        fail(rel(kfile) + ": patch " + spec.get("path").asText() + " does not exist");
      }
      filesRead.add(file);
      where = rel(file);
      text = DeployFiles.read(file);
    } else if (spec.hasNonNull("patch")) {
      where = rel(kfile) + " (inline patch)";
      text = spec.get("patch").asText();
    } else {
      where = rel(kfile);
      text = null;
      fail(rel(kfile) + ": a patch needs path or patch");
    }
    List<JsonNode> docs = DeployFiles.yamlDocuments(text, where);
    JsonNode target = spec.path("target");
    if (!docs.isEmpty() && docs.get(0).isArray()) {
      if (target.isMissingNode()) {
        fail(where + ": a JSON 6902 patch needs a target");
      }
      List<ObjectNode> targets = select(out, target);
      if (targets.isEmpty()) {
        fail(where + ": target " + target + " matches no resource");
      }
      for (ObjectNode r : targets) {
        for (JsonNode op : docs.get(0)) {
          json6902(r, op, where);
        }
      }
      return;
    }
    for (JsonNode doc : docs) {
      List<ObjectNode> targets = target.isMissingNode()
          ? find(out, doc.path("kind").asText(), doc.path("metadata").path("name").asText()).map(List::of).orElse(List.of())
          : select(out, target);
      if (targets.isEmpty()) {
        fail(where + ": patches " + doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText()
            + ", which is not a resource of the kustomization");
      }
      for (ObjectNode r : targets) {
        if ("delete".equals(doc.path("$patch").asText())) {
          out.remove(r);
        } else {
          merge(r, doc, "");
        }
      }
    }
  }

  private static List<ObjectNode> select(List<ObjectNode> out, JsonNode target) {
    return out.stream().filter(r -> {
      String apiVersion = r.path("apiVersion").asText();
      String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
      String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
      return (!target.has("kind") || target.get("kind").asText().equals(r.path("kind").asText()))
          && (!target.has("name") || target.get("name").asText().equals(r.path("metadata").path("name").asText()))
          && (!target.has("group") || target.get("group").asText().equals(group))
          && (!target.has("version") || target.get("version").asText().equals(version));
    }).toList();
  }

  static Optional<ObjectNode> find(List<ObjectNode> resources, String kind, String name) {
    return resources.stream()
        .filter(r -> kind.equals(r.path("kind").asText()) && name.equals(r.path("metadata").path("name").asText()))
        .findFirst();
  }

  /** Strategic merge: objects merge, lists of objects merge by their Kubernetes merge key, other lists are replaced. */
  private static void merge(ObjectNode target, JsonNode patch, String path) {
    Iterator<Map.Entry<String, JsonNode>> fields = patch.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> e = fields.next();
      String key = e.getKey();
      JsonNode value = e.getValue();
      if (key.startsWith("$")) {
        fail("strategic merge directive " + key + " at " + path + " is not understood by Kustomize.java");
      }
      JsonNode current = target.get(key);
      if (value.isNull()) {
        target.remove(key);
      } else if (value.isObject() && current != null && current.isObject()) {
        merge((ObjectNode) current, value, path + "/" + key);
      } else if (value.isArray() && current != null && current.isArray() && mergeKey(key, value) != null) {
        mergeList((ArrayNode) current, (ArrayNode) value, mergeKey(key, value), path + "/" + key);
      } else {
        target.set(key, value.deepCopy());
      }
    }
  }

  private static String mergeKey(String field, JsonNode items) {
    if (items.isEmpty() || !items.get(0).isObject()) {
      return null;
    }
    return switch (field) {
      case "containers", "initContainers", "env", "volumes", "imagePullSecrets" -> "name";
      case "volumeMounts" -> "mountPath";
      case "ports" -> items.get(0).has("containerPort") ? "containerPort" : "port";
      case "topologySpreadConstraints" -> "topologyKey";
      default -> null;
    };
  }

  private static void mergeList(ArrayNode current, ArrayNode patch, String key, String path) {
    for (JsonNode item : patch) {
      JsonNode id = item.get(key);
      ObjectNode match = null;
      for (JsonNode c : current) {
        if (c.isObject() && id != null && id.equals(c.get(key))) {
          match = (ObjectNode) c;
        }
      }
      if (match == null) {
        current.add(item.deepCopy());
      } else {
        merge(match, item, path + "[" + key + "=" + id + "]");
      }
    }
  }

  /** One JSON 6902 operation: add, replace, remove. */
  private static void json6902(ObjectNode resource, JsonNode op, String where) {
    String kind = op.path("op").asText();
    String path = op.path("path").asText();
    List<String> tokens = new ArrayList<>();
    for (String t : path.substring(path.startsWith("/") ? 1 : 0).split("/", -1)) {
      tokens.add(t.replace("~1", "/").replace("~0", "~"));
    }
    JsonNode parent = resource;
    for (String t : tokens.subList(0, tokens.size() - 1)) {
      parent = parent.isArray() ? parent.path(Integer.parseInt(t)) : parent.path(t);
      if (parent.isMissingNode()) {
        fail(where + ": " + kind + " " + path + ": the path does not exist in " + resource.path("kind").asText());
      }
    }
    String last = tokens.get(tokens.size() - 1);
    JsonNode value = op.get("value");
    switch (kind) {
      case "add" -> {
        if (parent instanceof ArrayNode a) {
          if (last.equals("-")) {
            a.add(value.deepCopy());
          } else {
            a.insert(Integer.parseInt(last), value.deepCopy());
          }
        } else {
          ((ObjectNode) parent).set(last, value.deepCopy());
        }
      }
      case "replace", "remove" -> {
        boolean exists = parent instanceof ArrayNode a ? Integer.parseInt(last) < a.size() : parent.has(last);
        if (!exists) {
          fail(where + ": " + kind + " " + path + ": nothing there in " + resource.path("kind").asText());
        }
        if (kind.equals("remove")) {
          if (parent instanceof ArrayNode a) {
            a.remove(Integer.parseInt(last));
          } else {
            ((ObjectNode) parent).remove(last);
          }
        } else if (parent instanceof ArrayNode a) {
          a.set(Integer.parseInt(last), value.deepCopy());
        } else {
          ((ObjectNode) parent).set(last, value.deepCopy());
        }
      }
      default -> fail(where + ": JSON 6902 op '" + kind + "' is not understood by Kustomize.java");
    }
  }

  private static String rel(Path p) {
    return DeployFiles.root().relativize(p.toAbsolutePath()).toString();
  }
}
