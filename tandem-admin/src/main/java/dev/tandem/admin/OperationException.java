package dev.tandem.admin;

import dev.tandem.TandemException;

/**
 * An operation that could not be done, and which kind of failure it is, so the HTTP API can answer 404, 409 or 503 and
 * the CLI exit with the matching code. Bad input is an {@link IllegalArgumentException} instead.
 */
public final class OperationException extends TandemException {
    /** The kinds of failure, each with the HTTP status the admin API answers. */
    public enum Kind {
        /** No workflow (or schedule) has that id (404). */
        NOT_FOUND(404),
        /** The target's state forbids it: resuming a workflow that succeeded, a fork id used by another (409). */
        CONFLICT(409),
        /** The database could not be reached, or the row stayed locked by another transaction: try again (503). */
        UNAVAILABLE(503);

        private final int httpStatus;

        Kind(int httpStatus) {
            this.httpStatus = httpStatus;
        }

        public int httpStatus() {
            return httpStatus;
        }
    }

    private final Kind kind;

    public OperationException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public OperationException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
