package dev.tandem;

import org.jspecify.annotations.Nullable;

/** Root of Tandem's exceptions. Unchecked; subclasses exist only where callers branch on them. */
public class TandemException extends RuntimeException {
    public TandemException(String message) {
        super(message);
    }

    public TandemException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
