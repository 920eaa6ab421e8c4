package dev.tandem.internal.db;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine's SQL, read once from {@code queries.sql} and its companion files (one per area): blocks that start with a {@code -- name: x} line; a line
 * {@code -- include: y} in a block stands for the text of an earlier block {@code y}. A name
 * that is asked for and missing is a packaging bug, so it fails at start, not mid-run.
 */
public final class Queries {
    private static final String DIRECTORY = "/dev/tandem/db/";
    /** Read in this order; a name may be defined once across all of them. */
    private static final List<String> FILES = List.of("queries.sql", "primitives.sql", "admin.sql", "schedules.sql",
            "wakeups.sql");
    private final Map<String, String> byName;

    private Queries(Map<String, String> byName) {
        this.byName = byName;
    }

    static Queries load() {
        return load(Queries.class, FILES.stream().map(file -> DIRECTORY + file).toArray(String[]::new));
    }

    /**
     * The named queries of other modules (the admin API and the CLI), in the same format: {@code resources} are
     * absolute resource paths read through {@code anchor}'s class loader, in order.
     */
    public static Queries load(Class<?> anchor, String... resources) {
        Map<String, String> all = new HashMap<>();
        for (String resource : resources) {
            try (InputStream in = anchor.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("missing resource " + resource + " (is the jar complete?)");
                }
                parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)).forEach((name, sql) -> {
                    if (all.putIfAbsent(name, sql) != null) {
                        throw new IllegalStateException("query '" + name + "' is defined twice (" + resource + ")");
                    }
                });
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + resource, e);
            }
        }
        return new Queries(all);
    }

    static Map<String, String> parse(String text) {
        Map<String, String> result = new HashMap<>();
        String name = null;
        StringBuilder sql = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String trimmed = line.strip();
            if (trimmed.startsWith("-- name:")) {
                if (name != null) {
                    result.put(name, finish(sql));
                }
                name = trimmed.substring("-- name:".length()).strip();
                sql.setLength(0);
            } else if (name != null && trimmed.startsWith("-- include:")) {
                String included = trimmed.substring("-- include:".length()).strip();
                String includedSql = result.get(included);
                if (includedSql == null) {
                    throw new IllegalStateException("query '" + name + "' includes '" + included
                            + "', which is not defined before it");
                }
                sql.append(includedSql).append('\n');
            } else if (name != null && !trimmed.startsWith("--")) {
                sql.append(line).append('\n');
            }
        }
        if (name != null) {
            result.put(name, finish(sql));
        }
        return result;
    }

    private static String finish(StringBuilder sql) {
        String s = sql.toString().strip();
        return s.endsWith(";") ? s.substring(0, s.length() - 1) : s;
    }

    /** Fails now, at start, rather than mid-run, if the packaged SQL lacks any of these queries. */
    public void require(String... names) {
        for (String name : names) {
            get(name);
        }
    }

    public String get(String name) {
        String sql = byName.get(name);
        if (sql == null) {
            throw new IllegalStateException("no query named '" + name + "' (is the jar complete?)");
        }
        return sql;
    }
}
