package io.odinws.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.odinws.config.AuthConfig;
import io.odinws.config.ConfigException;
import io.odinws.config.ConfigLoader;
import io.odinws.config.Mode;
import io.odinws.config.OdinConfig;
import io.odinws.config.OpsConfig;
import io.odinws.shard.admission.TrustedProxies;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * k8s/ against the server: every kustomization (the base and each overlay) is rendered by the real
 * kustomize, {@code kubectl kustomize} (installed by .ci/test-tools), and the result must fit the
 * server it runs: ports, probe paths, configuration keys and values, shutdown timing, autoscaler
 * and disruption budget.
 */
class KubernetesManifestsTest {

  /** The live ConfigMap: a stable name, edited in place and watched by the running server. */
  static final String CONFIG_MAP = "odin-ws-config";
  /** A name kustomize generated with a content hash: a change makes a new name, and the pods roll. */
  static final Pattern HASHED_NAME = Pattern.compile(".+-[a-z0-9]{10}");
  static final String CONFIG_KEY = "odin-ws.json";
  static final String CONTAINER = "odin-ws";
  static final String LIVE = "/health/live";
  static final String READY = "/health/ready";
  /** After the drain: WebSocket close handshakes, Vert.x close, JVM exit, before SIGKILL. */
  static final int SHUTDOWN_MARGIN_SECONDS = 5;

  /** A rendered kustomization: k8s/base or k8s/overlays/NAME. */
  record Variant(String name, Path dir, List<ObjectNode> resources) {

    @Override
    public String toString() {
      return name;
    }

    List<ObjectNode> all(String kind) {
      return resources.stream().filter(r -> kind.equals(r.path("kind").asText())).toList();
    }

    Optional<ObjectNode> optional(String kind) {
      List<ObjectNode> list = all(kind);
      assertTrue(list.size() <= 1, name + ": more than one " + kind);
      return list.stream().findFirst();
    }

    ObjectNode one(String kind) {
      return optional(kind).orElseGet(() -> fail(name + ": no " + kind));
    }

    ObjectNode deployment() {
      return one("Deployment");
    }

    JsonNode podSpec() {
      return deployment().path("spec").path("template").path("spec");
    }

    JsonNode podLabels() {
      return deployment().path("spec").path("template").path("metadata").path("labels");
    }

    JsonNode container() {
      for (JsonNode c : podSpec().path("containers")) {
        if (CONTAINER.equals(c.path("name").asText())) {
          return c;
        }
      }
      return fail(name + ": the Deployment has no container named " + CONTAINER);
    }

    Optional<ObjectNode> find(String kind, String resourceName) {
      return all(kind).stream().filter(r -> resourceName.equals(r.path("metadata").path("name").asText())).findFirst();
    }

    /** The ConfigMap {@value #CONFIG_MAP}, under that very name (no hash suffix: see liveConfigMapKeepsItsName...). */
    ObjectNode configMap() {
      return find("ConfigMap", CONFIG_MAP).orElseGet(() -> fail(name + ": no ConfigMap named " + CONFIG_MAP + " (ConfigMaps: "
          + all("ConfigMap").stream().map(cm -> cm.path("metadata").path("name").asText()).toList()
          + "); a hash suffix (generator option disableNameSuffixHash missing?) would keep the running pods from seeing an edit"));
    }

    String configMapName() {
      return configMap().path("metadata").path("name").asText();
    }

    String configJson() {
      JsonNode text = configMap().path("data").path(CONFIG_KEY);
      assertTrue(text.isTextual(), name + ": ConfigMap " + CONFIG_MAP + " has no key " + CONFIG_KEY);
      return text.asText();
    }

    /** The container's environment as the server sees it (literal values and ConfigMap keys). */
    Map<String, String> env() {
      Map<String, String> env = new LinkedHashMap<>();
      for (JsonNode e : container().path("env")) {
        String var = e.path("name").asText();
        if (e.has("value")) {
          env.put(var, e.get("value").asText());
        } else if (e.path("valueFrom").has("configMapKeyRef")) {
          JsonNode ref = e.path("valueFrom").path("configMapKeyRef");
          ObjectNode cm = find("ConfigMap", ref.path("name").asText())
              .orElseGet(() -> fail(name + ": env " + var + " refers to ConfigMap " + ref.path("name").asText() + ", which does not exist"));
          JsonNode value = cm.path("data").path(ref.path("key").asText());
          assertTrue(value.isTextual() || ref.path("optional").asBoolean(),
              name + ": env " + var + " refers to key " + ref.path("key").asText() + " that ConfigMap " + cm.path("metadata").path("name").asText() + " lacks");
          if (value.isTextual()) {
            env.put(var, value.asText());
          }
        }
      }
      for (JsonNode from : container().path("envFrom")) {
        fail(name + ": envFrom (" + from + ") is not checked by this test; use env entries");
      }
      return env;
    }

    /** The configuration the server resolves in this pod: defaults, the mounted file, the environment. */
    OdinConfig config() {
      try {
        return ConfigLoader.resolve(new JsonObject(configJson()), env());
      } catch (ConfigException e) {
        return fail(name + ": the server would refuse to start (exit 2): " + e.getMessage());
      }
    }

    int serverPort() {
      return config().http().port();
    }

    /** The container port the server listens on; fails when the container does not declare it. */
    JsonNode serverContainerPort() {
      return containerPort(serverPort(), "http.port");
    }

    /** Where probes and scrapes go: the operations port, or the public port when it is off. */
    JsonNode probeContainerPort() {
      int ops = config().ops().port();
      assertTrue(ops != 0, name + ": ops.port 0 binds a random port no probe can find");
      return ops == OpsConfig.OFF ? serverContainerPort() : containerPort(ops, "ops.port");
    }

    private JsonNode containerPort(int port, String key) {
      for (JsonNode p : container().path("ports")) {
        if (p.path("containerPort").asInt() == port) {
          return p;
        }
      }
      return fail(name + ": the container declares no port " + port + " (" + key + " of the configuration); ports: " + container().path("ports"));
    }

    Optional<ObjectNode> hpa() {
      return optional("HorizontalPodAutoscaler");
    }

    /** Fewest pods the Deployment runs: the autoscaler's minimum, or spec.replicas. */
    int minimumReplicas() {
      return hpa().map(h -> h.path("spec").path("minReplicas").asInt(1))
          .orElseGet(() -> deployment().path("spec").path("replicas").asInt(1));
    }
  }

  static Path k8s() {
    return DeployFiles.path("k8s");
  }

  /** k8s/base and every directory of k8s/overlays with a kustomization. */
  static List<Path> kustomizations() {
    List<Path> dirs = new ArrayList<>();
    dirs.add(k8s().resolve("base"));
    Path overlays = k8s().resolve("overlays");
    if (Files.isDirectory(overlays)) {
      try (Stream<Path> s = Files.list(overlays)) {
        s.filter(d -> kustomizationFile(d).isPresent()).sorted().forEach(dirs::add);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return dirs;
  }

  static Optional<Path> kustomizationFile(Path dir) {
    return Stream.of("kustomization.yaml", "kustomization.yml", "Kustomization").map(dir::resolve).filter(Files::isRegularFile).findFirst();
  }

  /** Renderings by directory: kubectl takes a while to start, and each test of each variant needs one. */
  private static final Map<Path, List<ObjectNode>> RENDERED = new ConcurrentHashMap<>();

  static Variant render(Path dir) {
    List<ObjectNode> resources = RENDERED.computeIfAbsent(dir, d -> {
      List<ObjectNode> out = new ArrayList<>();
      for (JsonNode doc : DeployFiles.yamlDocuments(kustomize(d), "kubectl kustomize " + d)) {
        assertTrue(doc.isObject(), "kubectl kustomize " + d + " printed a document that is no resource: " + doc);
        out.add((ObjectNode) doc);
      }
      return out;
    });
    // copies: a test that changed a resource would change it for the next
    return new Variant(k8s().relativize(dir).toString(), dir, resources.stream().map(ObjectNode::deepCopy).toList());
  }

  /** {@code kubectl kustomize dir}: the YAML that {@code kubectl apply -k dir} sends to the cluster. */
  static String kustomize(Path dir) {
    DeployFiles.Output out = kubectlKustomize(dir);
    assertEquals(0, out.exitCode(), "kubectl kustomize " + DeployFiles.root().relativize(dir) + " failed (an error in k8s/, or a kubectl"
        + " older than 1.21, whose kustomize v2 lacks the patches field: `make test-tools`): " + out.stderr());
    return out.stdout();
  }

  private static DeployFiles.Output kubectlKustomize(Path dir) {
    return DeployFiles.run(List.of("kubectl", "kustomize", dir.toString()), Map.of(), 120);
  }

  static Stream<Variant> variants() {
    return kustomizations().stream().map(KubernetesManifestsTest::render);
  }

  // ---- files ------------------------------------------------------------------------------------

  @Test
  void everyYamlDocumentUnderK8sParses() throws IOException {
    List<Path> files = filesUnderK8s();
    assertFalse(files.isEmpty(), "no files under k8s/");
    for (Path f : files) {
      String rel = DeployFiles.root().relativize(f).toString();
      if (f.toString().endsWith(".json")) {
        DeployFiles.json(DeployFiles.read(f), rel);
        continue;
      }
      List<JsonNode> docs = DeployFiles.yamlDocuments(f);
      assertFalse(docs.isEmpty(), rel + " holds no YAML document");
      for (JsonNode doc : docs) {
        if (doc.isArray()) {
          continue; // a JSON 6902 patch
        }
        assertTrue(doc.isObject() && doc.hasNonNull("apiVersion") && doc.hasNonNull("kind"),
            rel + ": every document needs apiVersion and kind: " + doc);
      }
    }
  }

  @Test
  void overlaysBuildOnTheBaseAndEveryFileUnderK8sIsUsed(@TempDir Path tmp) throws IOException {
    for (Path dir : kustomizations()) {
      render(dir); // kustomize fails on a missing resource, a patch of a resource that does not exist, ...
      if (!dir.equals(k8s().resolve("base"))) {
        JsonNode kustomization = DeployFiles.yamlDocuments(kustomizationFile(dir).orElseThrow()).get(0);
        boolean onBase = false;
        for (JsonNode r : kustomization.path("resources")) {
          onBase |= dir.resolve(r.asText()).normalize().equals(k8s().resolve("base"));
        }
        assertTrue(onBase, k8s().relativize(dir) + " does not build on ../../base");
      }
    }

    // A file is used when some kustomization fails or renders differently without it (in a copy of k8s/).
    Path copy = tmp.resolve("k8s");
    List<Path> files = filesUnderK8s();
    for (Path f : files) {
      Files.createDirectories(copy.resolve(k8s().relativize(f)).getParent());
      Files.copy(f, copy.resolve(k8s().relativize(f)));
    }
    Map<Path, String> before = new HashMap<>();
    for (Path dir : kustomizations()) {
      before.put(dir, kustomize(copy.resolve(k8s().relativize(dir))));
    }
    Set<Path> unused = new TreeSet<>();
    Path aside = tmp.resolve("aside");
    for (Path f : files) {
      Path inCopy = copy.resolve(k8s().relativize(f));
      Files.move(inCopy, aside);
      // the kustomization the file sits in first: usually that one run decides
      boolean used = kustomizations().stream().sorted(Comparator.comparing(dir -> f.startsWith(dir) ? 0 : 1)).anyMatch(dir -> {
        DeployFiles.Output out = kubectlKustomize(copy.resolve(k8s().relativize(dir)));
        return out.exitCode() != 0 || !out.stdout().equals(before.get(dir));
      });
      Files.move(aside, inCopy);
      if (!used) {
        unused.add(DeployFiles.root().relativize(f));
      }
    }
    assertTrue(unused.isEmpty(), "files under k8s/ that no kustomization uses (a patch or config not wired in?): " + unused);
  }

  // ---- per kustomization ------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void oneOfEachResourceWithUniqueNames(Variant v) {
    Set<String> seen = new TreeSet<>();
    for (ObjectNode r : v.resources()) {
      String id = r.path("kind").asText() + "/" + r.path("metadata").path("name").asText();
      assertTrue(seen.add(id), v + ": " + id + " appears twice");
    }
    v.deployment();
    v.one("Service");
    v.one("PodDisruptionBudget");
    v.configMap();
  }

  /**
   * Live settings (mode, shards, maxConnections) are applied by the running server when its -conf file changes, so
   * their ConfigMap keeps one name and is edited in place; settings the server reads only at start come from the
   * environment, out of ConfigMaps whose generated names carry a content hash, so a change rolls the pods.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void liveConfigMapKeepsItsNameAndStartOnlySettingsRollThePods(Variant v) {
    assertEquals(CONFIG_MAP, v.configMapName(), v + ": the live ConfigMap");
    for (JsonNode e : v.container().path("env")) {
      JsonNode ref = e.path("valueFrom").path("configMapKeyRef");
      if (ref.isMissingNode()) {
        continue;
      }
      String cm = ref.path("name").asText();
      assertNotEquals(CONFIG_MAP, cm, v + ": env " + e.path("name").asText() + " comes from the live ConfigMap: the server reads its"
          + " environment once, so an edit would apply to no running pod and roll none; use a hashed generator (odin-ws-env)");
      assertTrue(HASHED_NAME.matcher(cm).matches(), v + ": env " + e.path("name").asText() + " comes from ConfigMap " + cm
          + ", whose name has no content hash: changing it would not restart the pods that read it at start");
    }
    assertTrue(v.env().containsKey("KAFKA_BROKERS"), v + ": the broker address (start-only) comes from the environment");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void containerPortIsTheServersPort(Variant v) {
    JsonNode port = v.serverContainerPort();
    assertTrue(port.hasNonNull("name"), v + ": name the server's container port, so probes and the Service can refer to it");
    if (v.name().equals("base")) {
      assertEquals(DeployFiles.defaultPort(), port.path("containerPort").asInt(), "base: container port is http.port of default.json");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void probesUseTheServersHealthPathsOnItsOperationsPort(Variant v) {
    JsonNode c = v.container();
    assertProbe(v, c.path("livenessProbe"), "livenessProbe", LIVE);
    assertProbe(v, c.path("readinessProbe"), "readinessProbe", READY);
    if (c.has("startupProbe")) {
      assertProbe(v, c.path("startupProbe"), "startupProbe", LIVE);
    }
  }

  private static void assertProbe(Variant v, JsonNode probe, String which, String path) {
    assertFalse(probe.isMissingNode(), v + ": the container has no " + which);
    JsonNode get = probe.path("httpGet");
    assertFalse(get.isMissingNode(), v + ": " + which + " must be an httpGet on " + path);
    assertEquals(path, get.path("path").asText(), v + ": " + which + " path");
    assertPortRefersTo(v, v.probeContainerPort(), get.path("port"), which);
  }

  /** A port reference (name or number) must land on the container port the server listens on. */
  private static void assertPortRefersToServer(Variant v, JsonNode ref, String what) {
    assertPortRefersTo(v, v.serverContainerPort(), ref, what);
  }

  private static void assertPortRefersTo(Variant v, JsonNode port, JsonNode ref, String what) {
    if (ref.isInt() || ref.asText().matches("\\d+")) {
      assertEquals(port.path("containerPort").asInt(), ref.asInt(), v + ": " + what + " port");
    } else {
      assertEquals(port.path("name").asText(), ref.asText(),
          v + ": " + what + " port '" + ref.asText() + "' is not the name of container port " + port.path("containerPort").asInt());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void serviceSendsToTheServersPortOfThePods(Variant v) {
    ObjectNode svc = v.one("Service");
    assertSelects(v, "Service " + svc.path("metadata").path("name").asText(), svc.path("spec").path("selector"));
    JsonNode ports = svc.path("spec").path("ports");
    assertFalse(ports.isEmpty(), v + ": the Service has no ports");
    for (JsonNode p : ports) {
      assertPortRefersToServer(v, p.has("targetPort") ? p.get("targetPort") : p.path("port"), "Service port " + p.path("name").asText());
    }
    assertTrue(ports.findValuesAsText("name").contains("ws"), v + ": the Service port is named ws");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void configFileHasOnlyKnownKeysAndPassesTheServersValidation(Variant v) {
    JsonNode file = DeployFiles.json(v.configJson(), v + ": ConfigMap " + CONFIG_MAP + " key " + CONFIG_KEY);
    assertTrue(file.isObject(), v + ": " + CONFIG_KEY + " must be a JSON object");
    Set<String> known = DeployFiles.keyPaths(DeployFiles.defaults());
    Set<String> unknown = new TreeSet<>(DeployFiles.keyPaths(file));
    unknown.removeAll(known);
    assertTrue(unknown.isEmpty(), v + ": " + CONFIG_KEY + " has keys the server does not know (typo? see default.json): " + unknown);

    OdinConfig config = v.config(); // ConfigLoader.resolve: fails on any invalid value
    assertNotEquals("localhost:9092", config.kafka().bootstrap(),
        v + ": Kafka bootstrap is the built-in localhost:9092; set KAFKA_BROKERS or kafka.bootstrap");

    // A key set both in the file and by the environment: the file's value is silently dead.
    Map<String, String> env = v.env();
    Set<String> fileKeys = DeployFiles.keyPaths(file);
    envKeys().forEach((variable, key) -> assertFalse(env.containsKey(variable) && fileKeys.contains(key),
        v + ": " + key + " is set in " + CONFIG_KEY + " and by the environment variable " + variable + ", which wins; set it in one place"));
  }

  /** {@code ConfigLoader.ENV_KEYS}: environment variable to configuration key (package-private there). */
  @SuppressWarnings("unchecked")
  static Map<String, String> envKeys() {
    try {
      var field = ConfigLoader.class.getDeclaredField("ENV_KEYS");
      field.setAccessible(true);
      return (Map<String, String>) field.get(null);
    } catch (ReflectiveOperationException e) {
      return fail("ConfigLoader.ENV_KEYS (environment variable -> key) is gone; update KubernetesManifestsTest: " + e);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void configMapIsMountedWhereTheImageReadsItsConfiguration(Variant v) {
    String conf = DockerfileTest.confPath(DockerfileModel.parse(DeployFiles.path("Dockerfile")));
    assertConfigMounted(v, conf);
  }

  /** The -conf file of the image's command is the ConfigMap's {@value #CONFIG_KEY}, mounted from {@value #CONFIG_MAP}. */
  static void assertConfigMounted(Variant v, String confPath) {
    Path conf = Path.of(confPath);
    String dir = conf.getParent().toString();
    String file = conf.getFileName().toString();
    assertEquals(CONFIG_KEY, file, "the image's -conf file name is the ConfigMap key");
    JsonNode mount = null;
    for (JsonNode m : v.container().path("volumeMounts")) {
      if (m.path("mountPath").asText().equals(dir) || m.path("mountPath").asText().equals(confPath)) {
        mount = m;
      }
    }
    assertNotNull(mount, v + ": nothing is mounted at " + dir + " (the image runs -conf " + confPath + ")");
    String volumeName = mount.path("name").asText();
    JsonNode volume = null;
    for (JsonNode vol : v.podSpec().path("volumes")) {
      if (vol.path("name").asText().equals(volumeName)) {
        volume = vol;
      }
    }
    assertNotNull(volume, v + ": volumeMount " + volumeName + " has no volume");
    assertEquals(v.configMapName(), volume.path("configMap").path("name").asText(), v + ": " + dir + " must come from ConfigMap " + CONFIG_MAP);
    // The kubelet updates a ConfigMap volume by swapping its ..data symlink; a subPath mount is a copy that never changes.
    assertEquals(dir, mount.path("mountPath").asText(), v + ": mount the ConfigMap as the directory " + dir
        + ", not as the file " + confPath + ": a file (subPath) mount never sees an update");
    assertFalse(mount.has("subPath") || mount.has("subPathExpr"), v + ": the ConfigMap mount has a subPath: the pod would never see an update");
    String fileInMount = null;
    JsonNode items = volume.path("configMap").path("items");
    if (items.isMissingNode() || items.isEmpty()) {
      fileInMount = file; // every key becomes a file
    } else {
      for (JsonNode item : items) {
        if (item.path("key").asText().equals(CONFIG_KEY)) {
          fileInMount = item.path("path").asText();
        }
      }
    }
    assertEquals(file, fileInMount, v + ": key " + CONFIG_KEY + " must appear as " + confPath);
    v.configJson(); // the key exists
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void gracePeriodCoversPreStopAndTheDrain(Variant v) {
    int preStop = preStopSeconds(v);
    long drainMs = v.config().drainMs();
    int grace = v.podSpec().path("terminationGracePeriodSeconds").asInt(30);
    long needed = preStop + (drainMs + 999) / 1000 + SHUTDOWN_MARGIN_SECONDS;
    assertTrue(grace >= needed, v + ": terminationGracePeriodSeconds " + grace + " < preStop " + preStop + " s + shutdown.drainMs "
        + drainMs + " ms + " + SHUTDOWN_MARGIN_SECONDS + " s margin: the pod would be killed while still draining");
  }

  /** Seconds the preStop hook waits: {@code sleep N} in an exec command, or the {@code sleep} action. */
  static int preStopSeconds(Variant v) {
    JsonNode preStop = v.container().path("lifecycle").path("preStop");
    assertFalse(preStop.isMissingNode(), v + ": no preStop hook: the load balancer may still send connections to a draining pod");
    if (preStop.has("sleep")) {
      return preStop.path("sleep").path("seconds").asInt();
    }
    String command = String.join(" ", texts(preStop.path("exec").path("command")));
    Matcher m = Pattern.compile("(?:^|[\\s;&])sleep\\s+(\\d+)").matcher(command);
    assertTrue(m.find(), v + ": preStop should wait with `sleep N`: " + preStop);
    int seconds = Integer.parseInt(m.group(1));
    assertTrue(seconds > 0, v + ": preStop sleeps 0 s");
    return seconds;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void autoscalerTargetsTheDeploymentAndStaysBelowAdmissionsCpuLimit(Variant v) {
    Optional<ObjectNode> hpa = v.hpa();
    JsonNode replicas = v.deployment().path("spec").path("replicas");
    if (hpa.isEmpty()) {
      assertTrue(replicas.asInt() >= 1, v + ": without an autoscaler the Deployment sets replicas");
      return;
    }
    JsonNode spec = hpa.get().path("spec");
    assertEquals("autoscaling/v2", hpa.get().path("apiVersion").asText(), v + ": HPA apiVersion");
    JsonNode ref = spec.path("scaleTargetRef");
    assertEquals("Deployment", ref.path("kind").asText(), v + ": HPA scaleTargetRef.kind");
    assertEquals("apps/v1", ref.path("apiVersion").asText(), v + ": HPA scaleTargetRef.apiVersion");
    assertEquals(v.deployment().path("metadata").path("name").asText(), ref.path("name").asText(), v + ": HPA scaleTargetRef.name");
    int min = spec.path("minReplicas").asInt(1);
    int max = spec.path("maxReplicas").asInt();
    assertTrue(min >= 1 && max >= min, v + ": HPA minReplicas " + min + ", maxReplicas " + max);
    assertTrue(replicas.isMissingNode(), v + ": the autoscaler owns the replica count; spec.replicas in the Deployment resets it on every apply");

    Integer cpuTarget = null;
    for (JsonNode m : spec.path("metrics")) {
      if ("Resource".equals(m.path("type").asText()) && "cpu".equals(m.path("resource").path("name").asText())
          && "Utilization".equals(m.path("resource").path("target").path("type").asText())) {
        cpuTarget = m.path("resource").path("target").path("averageUtilization").asInt();
      }
    }
    assertNotNull(cpuTarget, v + ": the HPA scales on CPU utilisation");
    double reject = v.config().admission().cpuRejectPercent();
    assertTrue(cpuTarget < reject, v + ": HPA CPU target " + cpuTarget + " % must be below admission.cpuRejectPercent " + reject
        + " %, or pods refuse upgrades before the autoscaler adds any");
    assertTrue(v.container().path("resources").path("requests").has("cpu"), v + ": CPU utilisation needs a CPU request");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void disruptionBudgetSelectsThePodsAndAllowsDrains(Variant v) {
    ObjectNode pdb = v.one("PodDisruptionBudget");
    assertEquals("policy/v1", pdb.path("apiVersion").asText(), v + ": PDB apiVersion");
    JsonNode spec = pdb.path("spec");
    assertSelects(v, "PodDisruptionBudget", spec.path("selector").path("matchLabels"));
    assertTrue(spec.has("minAvailable") ^ spec.has("maxUnavailable"), v + ": the PDB sets one of minAvailable, maxUnavailable");
    if (spec.path("minAvailable").isInt()) {
      assertTrue(spec.path("minAvailable").asInt() < v.minimumReplicas(), v + ": PDB minAvailable " + spec.path("minAvailable").asInt()
          + " >= the fewest replicas (" + v.minimumReplicas() + "): no pod could ever be evicted, node drains hang");
    }
    if (spec.path("maxUnavailable").isInt()) {
      assertTrue(spec.path("maxUnavailable").asInt() >= 1, v + ": PDB maxUnavailable 0 blocks every eviction");
    }
    assertSelects(v, "Deployment selector", v.deployment().path("spec").path("selector").path("matchLabels"));
  }

  private static void assertSelects(Variant v, String what, JsonNode selector) {
    assertTrue(selector.isObject() && !selector.isEmpty(), v + ": " + what + " has no selector");
    selector.fields().forEachRemaining(e -> assertEquals(e.getValue().asText(), v.podLabels().path(e.getKey()).asText(null),
        v + ": " + what + " selects " + e.getKey() + "=" + e.getValue().asText() + ", which the pods do not carry"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void prometheusScrapesTheMetricsEndpoint(Variant v) {
    JsonNode annotations = v.deployment().path("spec").path("template").path("metadata").path("annotations");
    assertEquals("true", annotations.path("prometheus.io/scrape").asText(), v + ": pod annotation prometheus.io/scrape");
    assertEquals(v.probeContainerPort().path("containerPort").asText(), annotations.path("prometheus.io/port").asText(),
        v + ": pod annotation prometheus.io/port");
    assertEquals("/metrics", annotations.path("prometheus.io/path").asText(), v + ": pod annotation prometheus.io/path");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void runsAsTheImagesNonRootUser(Variant v) {
    JsonNode pod = v.podSpec().path("securityContext");
    JsonNode container = v.container().path("securityContext");
    boolean nonRoot = container.has("runAsNonRoot") ? container.get("runAsNonRoot").asBoolean() : pod.path("runAsNonRoot").asBoolean();
    assertTrue(nonRoot, v + ": runAsNonRoot: true");
    JsonNode uid = container.has("runAsUser") ? container.get("runAsUser") : pod.path("runAsUser");
    if (!uid.isMissingNode()) {
      int imageUid = DockerfileTest.userId(DockerfileModel.parse(DeployFiles.path("Dockerfile")));
      assertEquals(imageUid, uid.asInt(), v + ": runAsUser is the image's USER (the files in /app belong to it)");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void resourcesAreBoundedAndShardsFollowTheCpuLimit(Variant v) {
    JsonNode res = v.container().path("resources");
    for (String r : List.of("cpu", "memory")) {
      assertTrue(res.path("requests").has(r), v + ": resources.requests." + r);
      assertTrue(res.path("limits").has(r), v + ": resources.limits." + r);
      double request = quantity(res.path("requests").path(r).asText());
      double limit = quantity(res.path("limits").path(r).asText());
      assertTrue(request <= limit, v + ": " + r + " request " + request + " above the limit " + limit);
    }
    OdinConfig config = v.config();
    if (config.mode() == Mode.MULTI && config.shards() == 0) {
      // one shard per core the JVM sees: the CPU limit, or every core of the node without one
      assertTrue(res.path("limits").has("cpu"), v + ": multi mode with shards 0 needs a CPU limit");
    }
  }

  // ---- authentication keys -------------------------------------------------------------------------

  /** A key file the server reads (auth.*File), and the configuration key that names it. */
  record KeyFile(String key, String path) {
  }

  /** The key files the server reads with this configuration: the HS256 secret file, or the PEM and JWKS files. */
  static List<KeyFile> keyFiles(AuthConfig auth) {
    List<KeyFile> files = new ArrayList<>();
    if (auth.algorithm().equals("HS256")) {
      if (!auth.hmacSecretFile().isEmpty()) {
        files.add(new KeyFile("auth.hmacSecretFile", auth.hmacSecretFile()));
      }
    } else {
      if (!auth.publicKeyFile().isEmpty()) {
        files.add(new KeyFile("auth.publicKeyFile", auth.publicKeyFile()));
      }
      if (!auth.jwksFile().isEmpty()) {
        files.add(new KeyFile("auth.jwksFile", auth.jwksFile()));
      }
    }
    return files;
  }

  @Test
  void someKustomizationAuthenticatesWithItsKeyInAMountedSecret() {
    assertTrue(variants().anyMatch(v -> v.config().auth().enabled() && !keyFiles(v.config().auth()).isEmpty()),
        "no kustomization turns authentication on with its key from a mounted Secret (docs/tokens.md; k8s/overlays/prod shows how)");
  }

  /**
   * With authentication on, each key file the configuration names is a key of a Secret of this kustomization, mounted
   * read-only as a directory (no subPath: the kubelet updates a Secret volume by swapping its ..data symlink, which is
   * how a rotated key reaches the running server, which re-reads the file every auth.keyReloadMs), and no ConfigMap or
   * plain environment variable carries the key. An HS256 secret from the environment comes from a secretKeyRef.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void authKeysComeFromAMountedSecretAndNeverFromAConfigMap(Variant v) {
    AuthConfig auth = v.config().auth();
    if (!auth.enabled()) {
      return; // mode off: no token is read, no key needed
    }
    List<String> secretValues = new ArrayList<>();
    for (KeyFile f : keyFiles(auth)) {
      Path file = Path.of(f.path());
      String what = v + ": " + f.key() + " " + f.path();
      assertTrue(file.isAbsolute() && file.getParent() != null, what + " must be an absolute path in the container");
      String dir = file.getParent().toString();
      JsonNode mount = null;
      for (JsonNode m : v.container().path("volumeMounts")) {
        String at = m.path("mountPath").asText();
        assertNotEquals(f.path(), at, what + " is mounted as a single file (subPath): a rotated key would never reach the pod;"
            + " mount the Secret as the directory " + dir);
        if (at.equals(dir)) {
          mount = m;
        }
      }
      assertNotNull(mount, what + ": nothing is mounted at " + dir + " (mounts: " + v.container().path("volumeMounts") + ")");
      assertFalse(mount.has("subPath") || mount.has("subPathExpr"), what + ": the mount at " + dir
          + " has a subPath: the pod would keep the first key forever");
      assertTrue(mount.path("readOnly").asBoolean(), what + ": mount the key directory " + dir + " readOnly");
      JsonNode volume = volume(v, mount.path("name").asText());
      JsonNode secretVolume = volume.path("secret");
      assertTrue(secretVolume.isObject(), what + ": the volume at " + dir + " is not a Secret (" + volume + "): a key is never in a ConfigMap");
      String secretName = secretVolume.path("secretName").asText();
      ObjectNode secret = v.find("Secret", secretName).orElseGet(() -> fail(what + ": the volume refers to Secret " + secretName
          + ", which this kustomization does not produce"));
      String dataKey = file.getFileName().toString();
      JsonNode items = secretVolume.path("items");
      if (items.isArray() && !items.isEmpty()) {
        dataKey = null;
        for (JsonNode item : items) {
          if (item.path("path").asText().equals(file.getFileName().toString())) {
            dataKey = item.path("key").asText();
          }
        }
        assertNotNull(dataKey, what + ": no item of Secret " + secretName + " is mounted as " + file.getFileName());
      }
      String value = secretValue(secret, dataKey);
      assertNotNull(value, what + ": Secret " + secretName + " has no key " + dataKey);
      secretValues.add(value);
      for (JsonNode m : v.container().path("volumeMounts")) {
        JsonNode other = volume(v, m.path("name").asText());
        if (other.has("configMap")) {
          assertFalse(f.path().startsWith(m.path("mountPath").asText() + "/"), what + " lies under " + m.path("mountPath").asText()
              + ", a ConfigMap mount");
        }
      }
    }
    if (auth.algorithm().equals("HS256") && auth.hmacSecretFile().isEmpty()) {
      String variable = auth.hmacSecretEnv();
      JsonNode entry = null;
      for (JsonNode e : v.container().path("env")) {
        if (e.path("name").asText().equals(variable)) {
          entry = e;
        }
      }
      assertNotNull(entry, v + ": HS256 without auth.hmacSecretFile reads the secret from " + variable + ", which the container does not set");
      JsonNode ref = entry.path("valueFrom").path("secretKeyRef");
      assertTrue(ref.isObject(), v + ": " + variable + " (the HS256 secret) must come from a Secret (secretKeyRef), not " + entry);
      ObjectNode secret = v.find("Secret", ref.path("name").asText()).orElseGet(() -> fail(v + ": " + variable
          + " refers to Secret " + ref.path("name").asText() + ", which this kustomization does not produce"));
      String value = secretValue(secret, ref.path("key").asText());
      assertNotNull(value, v + ": Secret " + ref.path("name").asText() + " has no key " + ref.path("key").asText());
      secretValues.add(value);
    }

    // Not baked into configuration: no ConfigMap key named like a key file and no ConfigMap value or literal env value holding
    // a key's content (the configuration names files; the key itself lives only in the Secret).
    for (ObjectNode cm : v.all("ConfigMap")) {
      String cmName = cm.path("metadata").path("name").asText();
      cm.path("data").fields().forEachRemaining(e -> {
        for (KeyFile f : keyFiles(auth)) {
          assertNotEquals(Path.of(f.path()).getFileName().toString(), e.getKey(), v + ": ConfigMap " + cmName
              + " has a key named like the key file " + f.path());
        }
        for (String secretValue : secretValues) {
          assertFalse(!secretValue.isBlank() && e.getValue().asText().contains(secretValue.strip()), v + ": ConfigMap " + cmName
              + " key " + e.getKey() + " holds the content of the key Secret");
        }
      });
    }
    for (JsonNode e : v.container().path("env")) {
      for (String secretValue : secretValues) {
        assertFalse(e.has("value") && !secretValue.isBlank() && e.path("value").asText().contains(secretValue.strip()),
            v + ": env " + e.path("name").asText() + " holds the content of the key Secret as a literal");
      }
    }
  }

  private static JsonNode volume(Variant v, String name) {
    for (JsonNode vol : v.podSpec().path("volumes")) {
      if (vol.path("name").asText().equals(name)) {
        return vol;
      }
    }
    return fail(v + ": volumeMount " + name + " has no volume");
  }

  /** A Secret's value for a key ({@code data} is base64, {@code stringData} plain), or null. */
  private static String secretValue(ObjectNode secret, String key) {
    JsonNode data = secret.path("data").path(key);
    if (data.isTextual()) {
      return new String(java.util.Base64.getMimeDecoder().decode(data.asText()), java.nio.charset.StandardCharsets.UTF_8);
    }
    JsonNode plain = secret.path("stringData").path(key);
    return plain.isTextual() ? plain.asText() : null;
  }

  // ---- the way in: Ingress, Service, trusted proxies -----------------------------------------------

  static final String NGINX = "nginx.ingress.kubernetes.io/";
  /**
   * Addresses an ingress-nginx pod has in common clusters' default pod networks (kind and kubeadm with flannel
   * 10.244.0.0/16, k3s 10.42.0.0/16, GKE a 10.x range): the peer address the server sees behind the Ingress.
   */
  static final List<String> INGRESS_POD_ADDRESSES = List.of("10.244.1.17", "10.42.0.9", "10.8.3.4");
  /** Addresses outside any cluster: never trusted, or anyone could name any client address in X-Forwarded-For. */
  static final List<String> PUBLIC_ADDRESSES = List.of("8.8.8.8", "203.0.113.7", "2001:4860:4860::8888");

  @Test
  void someKustomizationLetsOutsideClientsInWithTheirOwnAddress() {
    assertTrue(variants().anyMatch(v -> !v.all("Ingress").isEmpty() || localLoadBalancer(v)),
        "no kustomization ships an Ingress or a Service of type LoadBalancer with externalTrafficPolicy: Local");
  }

  /** ingress-nginx in front: each path reaches the server's port, and nginx never closes or buffers a healthy WebSocket. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void ingressReachesTheServerAndKeepsWebSocketsOpen(Variant v) {
    OdinConfig config = v.config();
    for (ObjectNode ingress : v.all("Ingress")) {
      String what = v + ": Ingress " + ingress.path("metadata").path("name").asText();
      assertEquals("networking.k8s.io/v1", ingress.path("apiVersion").asText(), what + " apiVersion");
      JsonNode annotations = ingress.path("metadata").path("annotations");
      assertEquals("nginx", ingress.path("spec").path("ingressClassName").asText(annotations.path("kubernetes.io/ingress.class").asText()),
          what + ": the annotations are ingress-nginx's; ingressClassName nginx");
      // nginx closes a proxied connection when nothing passed for this long; the server's pings are the liveness check
      for (String timeout : List.of("proxy-read-timeout", "proxy-send-timeout")) {
        String value = annotations.path(NGINX + timeout).asText("");
        assertTrue(value.matches("\\d+"), what + ": annotation " + NGINX + timeout + " (seconds) is missing; nginx's default 60 s"
            + " is the server's idle timeout, and a quiet channel would be cut");
        long ms = Long.parseLong(value) * 1000;
        assertTrue(ms > config.ws().pingIntervalMs() && ms > config.ws().idleTimeoutMs(), what + ": " + timeout + " " + value
            + " s must exceed ws.pingIntervalMs " + config.ws().pingIntervalMs() + " ms and ws.idleTimeoutMs "
            + config.ws().idleTimeoutMs() + " ms: the server, not nginx, decides when a connection is dead");
      }
      assertEquals("off", annotations.path(NGINX + "proxy-buffering").asText(), what + ": " + NGINX + "proxy-buffering off");

      Set<String> paths = new TreeSet<>();
      for (JsonNode rule : ingress.path("spec").path("rules")) {
        for (JsonNode p : rule.path("http").path("paths")) {
          paths.add(p.path("path").asText());
          JsonNode backend = p.path("backend").path("service");
          String svcName = backend.path("name").asText();
          ObjectNode svc = v.find("Service", svcName).orElseGet(() -> fail(what + ": path " + p.path("path").asText()
              + " goes to Service " + svcName + ", which does not exist"));
          JsonNode svcPort = servicePort(v, svc, backend.path("port"), what);
          assertPortRefersToServer(v, svcPort.has("targetPort") ? svcPort.get("targetPort") : svcPort.path("port"),
              what + " path " + p.path("path").asText() + " -> Service " + svcName + " port " + svcPort.path("name").asText());
        }
      }
      assertTrue(paths.contains(config.ws().path()), what + ": no path for ws.path " + config.ws().path() + ": " + paths);
    }
  }

  /** The Service port an Ingress backend names ({@code port.name} or {@code port.number}). */
  private static JsonNode servicePort(Variant v, ObjectNode svc, JsonNode ref, String what) {
    for (JsonNode p : svc.path("spec").path("ports")) {
      if (ref.has("name") ? ref.path("name").asText().equals(p.path("name").asText()) : ref.path("number").asInt() == p.path("port").asInt()) {
        return p;
      }
    }
    return fail(what + ": backend port " + ref + " is not a port of Service " + svc.path("metadata").path("name").asText());
  }

  private static boolean localLoadBalancer(Variant v) {
    return v.all("Service").stream().anyMatch(s -> "LoadBalancer".equals(s.path("spec").path("type").asText())
        && "Local".equals(s.path("spec").path("externalTrafficPolicy").asText()));
  }

  /**
   * admission.trustedProxies follows what is shipped: behind the Ingress the peer is an ingress-nginx pod, which must
   * be trusted (or every client looks like that pod and shares its per-address limits); without a proxy nothing is
   * trusted (a client's own X-Forwarded-For would choose its address); an address outside the cluster never is.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void trustedProxiesMatchWhatIsShipped(Variant v) {
    List<String> entries = v.config().admission().trustedProxies();
    TrustedProxies trusted = TrustedProxies.parse(entries);
    for (String a : PUBLIC_ADDRESSES) {
      assertFalse(trusted.contains(address(a)), v + ": admission.trustedProxies " + entries + " trusts " + a
          + ", outside any cluster: anyone could set their own address with X-Forwarded-For");
    }
    if (!v.all("Ingress").isEmpty()) {
      for (String a : INGRESS_POD_ADDRESSES) {
        assertTrue(trusted.contains(address(a)), v + ": the Ingress connects from an ingress-nginx pod (e.g. " + a
            + ") that admission.trustedProxies " + entries + " does not trust: every client would have the ingress pod's address");
      }
    } else {
      assertTrue(trusted.isEmpty(), v + ": no proxy is shipped (no Ingress), yet admission.trustedProxies is " + entries
          + ": a client in that range could pick its address with X-Forwarded-For");
    }
  }

  private static java.net.InetAddress address(String literal) {
    return io.netty.util.NetUtil.createInetAddressFromIpAddressString(literal);
  }

  /** A Kubernetes quantity in base units: {@code 250m}, {@code 2}, {@code 512Mi}, {@code 1G}. */
  static double quantity(String q) {
    Matcher m = Pattern.compile("^([0-9.]+)([a-zA-Z]*)$").matcher(q.strip());
    if (!m.matches()) {
      return fail("not a quantity: " + q);
    }
    double n = Double.parseDouble(m.group(1));
    Map<String, Double> units = Map.ofEntries(Map.entry("", 1d), Map.entry("m", 1e-3), Map.entry("k", 1e3), Map.entry("M", 1e6),
        Map.entry("G", 1e9), Map.entry("T", 1e12), Map.entry("Ki", 1024d), Map.entry("Mi", 1024d * 1024),
        Map.entry("Gi", 1024d * 1024 * 1024), Map.entry("Ti", 1024d * 1024 * 1024 * 1024));
    Double unit = units.get(m.group(2));
    return unit == null ? fail("unknown unit in " + q) : n * unit;
  }

  private static List<Path> filesUnderK8s() throws IOException {
    try (Stream<Path> s = Files.walk(k8s())) {
      return s.filter(Files::isRegularFile)
          .filter(f -> f.toString().matches(".*\\.(ya?ml|json)$") || f.getFileName().toString().equals("Kustomization"))
          .map(p -> p.toAbsolutePath().normalize())
          .sorted()
          .toList();
    }
  }
}
