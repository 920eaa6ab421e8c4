package dev.tandem.cli;

/** ANSI colors for the terminal, or plain text when color is off (stdout is not a terminal, or NO_COLOR is set). */
final class Style {
    private final boolean on;

    Style(boolean on) {
        this.on = on;
    }

    String bold(String text) {
        return wrap("1", text);
    }

    String dim(String text) {
        return wrap("2", text);
    }

    String red(String text) {
        return wrap("31", text);
    }

    String green(String text) {
        return wrap("32", text);
    }

    String yellow(String text) {
        return wrap("33", text);
    }

    String blue(String text) {
        return wrap("34", text);
    }

    String cyan(String text) {
        return wrap("36", text);
    }

    /** A workflow status in its color: green for success, red for failures, cyan while running. */
    String status(String padded, String status) {
        return switch (status.trim()) {
            case "SUCCESS" -> green(padded);
            case "ERROR", "RETRIES_EXCEEDED" -> red(padded);
            case "CANCELLED" -> yellow(padded);
            case "RUNNING" -> cyan(padded);
            case "ENQUEUED", "DELAYED" -> blue(padded);
            default -> padded;
        };
    }

    private String wrap(String code, String text) {
        return on && !text.isEmpty() ? "\u001b[" + code + "m" + text + "\u001b[0m" : text;
    }
}
