package io.odinws.auth;

/** A token's verification: who it names, or why it is refused. */
public sealed interface Verification {

  record Valid(Identity identity) implements Verification {
  }

  record Refused(Refusal refusal) implements Verification {
  }
}
