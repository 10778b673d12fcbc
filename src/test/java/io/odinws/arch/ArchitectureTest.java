package io.odinws.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package graph of the server (docs/architecture.md draws it): no cycles between packages, the
 * leaf packages below every capability, Vert.x and Netty internals only in {@code internal}, and no
 * server class that needs the tools.
 */
class ArchitectureTest {

  private static JavaClasses server;

  @BeforeAll
  static void importClasses() {
    server = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.odinws");
  }

  /** Every package is its own slice (shard and shard.admission are two), so a cycle between any two fails. */
  @Test
  void noPackageCycles() {
    slices().matching("io.odinws.(**)").should().beFreeOfCycles().check(server);
  }

  @Test
  void leafPackagesDependOnNoCapability() {
    noClasses().that().resideInAnyPackage("io.odinws.config..", "io.odinws.envelope..", "io.odinws.stats..",
            "io.odinws.log..", "io.odinws.ratelimit..", "io.odinws.internal..", "io.odinws.protocol..", "io.odinws.bus..", "io.odinws.http..")
        .should().dependOnClassesThat().resideInAnyPackage("io.odinws.ingest..", "io.odinws.recovery..", "io.odinws.auth..",
            "io.odinws.shard..", "io.odinws.router..", "io.odinws.ops..", "io.odinws.cli..")
        .check(server);
  }

  @Test
  void vertxAndNettyInternalsOnlyInTheInternalPackage() {
    noClasses().that().resideOutsideOfPackage("io.odinws.internal..")
        .should().dependOnClassesThat().resideInAnyPackage("io.vertx.core.internal..", "io.vertx..impl..",
            "io.netty.channel.unix..", "io.netty.channel.epoll..")
        .because("a changed internal API must fail one place, checked at startup (internal.VertxInternals)")
        .check(server);
  }

  @Test
  void noServerPackageNeedsTheTools() {
    noClasses().that().resideOutsideOfPackage("io.odinws.tools..")
        .should().dependOnClassesThat().resideInAPackage("io.odinws.tools..")
        .because("the server jar leaves the tools out")
        .check(server);
  }

  @Test
  void onlyTheCommandLineStartsTheServerProcess() {
    noClasses().that().resideOutsideOfPackages("io.odinws.cli..", "io.odinws.tools..")
        .should().dependOnClassesThat().resideInAPackage("io.odinws.cli..")
        .check(server);
  }
}
