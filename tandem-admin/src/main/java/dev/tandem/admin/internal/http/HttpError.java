package dev.tandem.admin.internal.http;

/** An answer other than 200 that the API gives on purpose: its status and the message of its JSON body. */
final class HttpError extends RuntimeException {
    final int status;

    HttpError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }
}
