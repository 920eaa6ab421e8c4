package dev.tandem.cli;

/** A failure the CLI reports as one line on stderr, exiting with {@link #exitCode()}. */
final class CliException extends RuntimeException {
    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    CliException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    static CliException badInput(String message) {
        return new CliException(ExitCode.BAD_INPUT, message);
    }

    int exitCode() {
        return exitCode;
    }
}
