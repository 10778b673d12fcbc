package io.odinws.tools.token;

import io.odinws.tools.Commands;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code odin-ws token --sub alice [options]}: prints a signed JWT on stdout, for tests, demos and the
 * token guide. Production tokens come from the service that knows the users; this tool signs whatever
 * it is told to.
 */
@Command(name = "token", sortOptions = false, abbreviateSynopsis = true,
    description = "Mints a signed JWT (HS256, RS256 or ES256) for a user and prints it on stdout.")
public final class TokenCommand implements Callable<Integer> {

  static final String SECRET_ENV = "ODIN_JWT_SECRET";

  @Option(names = "--sub", required = true, paramLabel = "USER", description = "the sub claim: the user private records are delivered to")
  private String sub;

  @Option(names = "--ttl", paramLabel = "SECONDS", description = "lifetime: exp = now + SECONDS; 0 = no exp (default: ${DEFAULT-VALUE})")
  private long ttlSeconds = 3600;

  @Option(names = "--channels", paramLabel = "CHANNEL", split = "\\s*,\\s*", splitSynopsisLabel = ",",
      description = "the channels claim (BTC.trade, BTC.*, *.balances); absent: every channel")
  private List<String> channels;

  @Option(names = "--iss", paramLabel = "ISSUER", description = "the iss claim")
  private String iss;

  @Option(names = "--aud", paramLabel = "AUDIENCE", description = "the aud claim")
  private String aud;

  @Option(names = "--kid", paramLabel = "ID", description = "the kid header (a JWKS key id)")
  private String kid;

  @Option(names = "--alg", paramLabel = "ALG", description = "HS256, RS256 or ES256 (default: ${DEFAULT-VALUE})")
  private String alg = "HS256";

  @Option(names = "--secret-file", paramLabel = "FILE", description = "HS256: the secret's file (default: $" + SECRET_ENV + ")")
  private Path secretFile;

  @Option(names = "--private-key-file", paramLabel = "FILE", description = "RS256/ES256: the private key, PEM PKCS#8")
  private Path privateKeyFile;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
  private boolean help;

  @Spec
  private CommandLine.Model.CommandSpec spec;

  /** The token {@code args} ask for, or null after printing the help; the secret may come from {@code env}. */
  static String run(String[] args, Map<String, String> env, long nowSeconds) {
    TokenCommand command = new TokenCommand();
    return Commands.parse(command, args) ? command.token(env, nowSeconds) : null;
  }

  private String token(Map<String, String> env, long nowSeconds) {
    String algorithm = alg.toUpperCase(Locale.ROOT);
    if (!TokenMinter.ALGORITHMS.contains(algorithm)) {
      throw new IllegalArgumentException("--alg " + alg + ": accepted values: " + String.join(", ", TokenMinter.ALGORITHMS));
    }
    if (sub.isEmpty()) {
      throw new IllegalArgumentException("--sub must not be empty");
    }
    if (ttlSeconds < 0) {
      throw new IllegalArgumentException("--ttl must be 0 (no exp) or more seconds");
    }
    Key key;
    if (algorithm.equals("HS256")) {
      byte[] secret;
      if (secretFile != null) {
        secret = trimNewline(read(secretFile, "--secret-file"));
      } else {
        String value = env.get(SECRET_ENV);
        if (value == null || value.isEmpty()) {
          throw new IllegalArgumentException("HS256 needs --secret-file or the environment variable " + SECRET_ENV);
        }
        secret = value.getBytes(StandardCharsets.UTF_8);
      }
      key = TokenMinter.hmacKey(secret);
    } else {
      if (privateKeyFile == null) {
        throw new IllegalArgumentException(algorithm + " needs --private-key-file (PEM PKCS#8)");
      }
      key = TokenMinter.privateKey(new String(read(privateKeyFile, "--private-key-file"), StandardCharsets.US_ASCII), algorithm);
    }
    return TokenMinter.mint(algorithm, key, kid, TokenMinter.claims(sub, ttlSeconds, channels, iss, aud, nowSeconds));
  }

  @Override
  public Integer call() {
    String token;
    try {
      token = token(System.getenv(), System.currentTimeMillis() / 1000);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintStream out = System.out;
    out.println(token);
    out.flush();
    return 0;
  }

  private static byte[] read(Path file, String option) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(option + " " + file + ": cannot read (" + e.getClass().getSimpleName() + ")");
    }
  }

  private static byte[] trimNewline(byte[] bytes) {
    int n = bytes.length;
    while (n > 0 && (bytes[n - 1] == '\n' || bytes[n - 1] == '\r')) {
      n--;
    }
    return Arrays.copyOf(bytes, n);
  }
}
