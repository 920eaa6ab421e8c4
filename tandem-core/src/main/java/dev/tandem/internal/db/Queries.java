package dev.tandem.internal.db;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The engine's SQL, read once from {@code queries.sql}: blocks that start with a {@code -- name: x} line; a line
 * {@code -- include: y} in a block stands for the text of an earlier block {@code y}. A name
 * that is asked for and missing is a packaging bug, so it fails at start, not mid-run.
 */
final class Queries {
    private static final String RESOURCE = "/dev/tandem/db/queries.sql";
    private final Map<String, String> byName;

    private Queries(Map<String, String> byName) {
        this.byName = byName;
    }

    static Queries load() {
        try (InputStream in = Queries.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCE + " (is tandem-core's jar complete?)");
            }
            return new Queries(parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE, e);
        }
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

    String get(String name) {
        String sql = byName.get(name);
        if (sql == null) {
            throw new IllegalStateException("no query named '" + name + "' in " + RESOURCE);
        }
        return sql;
    }
}
