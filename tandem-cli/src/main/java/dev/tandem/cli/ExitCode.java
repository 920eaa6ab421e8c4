package dev.tandem.cli;

/**
 * The exit codes of {@code tandem}, documented in docs/cli.md; scripts branch on them.
 */
public final class ExitCode {
    /** It worked (also an action that changed nothing because it had already been done). */
    public static final int OK = 0;
    /** No workflow or schedule has that id or name. */
    public static final int NOT_FOUND = 1;
    /** Bad input: an unknown option or status, a malformed duration, time or JSON, a bulk action without a filter. */
    public static final int BAD_INPUT = 2;
    /** The database could not be reached, its schema tandem is missing or too old, or a row stayed locked: retry. */
    public static final int UNAVAILABLE = 3;
    /** The target's state forbids the action (resuming a workflow that succeeded, a fork id already used). */
    public static final int CONFLICT = 4;
    /** Anything else: a bug or an unexpected database error (run again with --verbose for the stack trace). */
    public static final int FAILED = 5;

    private ExitCode() {}
}
