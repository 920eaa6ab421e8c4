package dev.tandem.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What one run of the CLI writes to and reads from: stdout and stderr, the environment, whether to color, and the
 * clock that relative ages are counted from. Tests build one over string buffers; {@link TandemCli#main} over the
 * process's streams.
 */
final class Session {
    private final PrintWriter out;
    private final PrintWriter err;
    private final Map<String, String> env;
    private final boolean color;
    private final Supplier<Instant> clock;

    Session(PrintWriter out, PrintWriter err, Map<String, String> env, boolean color, Supplier<Instant> clock) {
        this.out = out;
        this.err = err;
        this.env = Map.copyOf(env);
        this.color = color;
        this.clock = clock;
    }

    /** Colors only on a terminal, and never when {@code NO_COLOR} is set (https://no-color.org) or TERM is dumb. */
    static boolean colorWanted(Map<String, String> env) {
        return System.console() != null && !env.containsKey("NO_COLOR") && !"dumb".equals(env.get("TERM"));
    }

    PrintWriter out() {
        return out;
    }

    PrintWriter err() {
        return err;
    }

    String env(String name) {
        return env.get(name);
    }

    boolean color() {
        return color;
    }

    Instant now() {
        return clock.get();
    }

    Style style() {
        return new Style(color);
    }
}
