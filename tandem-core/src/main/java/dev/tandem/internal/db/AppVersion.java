package dev.tandem.internal.db;

import java.util.List;

/**
 * This executor's application version, and the versions it declares it can also run, as glob patterns ({@code *}
 * matches any run of characters): it recovers, dequeues and resumes only workflows first run by one of them (or not
 * run yet).
 */
public record AppVersion(String version, List<String> compatibleWith) {
    public AppVersion {
        compatibleWith = List.copyOf(compatibleWith);
    }

    /** The patterns as SQL LIKE patterns ({@code *} becomes {@code %}; {@code %}, {@code _}, {@code \} literal). */
    public String[] likePatterns() {
        return compatibleWith.stream().map(AppVersion::like).toArray(String[]::new);
    }

    static String like(String glob) {
        StringBuilder like = new StringBuilder(glob.length() + 4);
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> like.append('%');
                case '%', '_', '\\' -> like.append('\\').append(c);
                default -> like.append(c);
            }
        }
        return like.toString();
    }
}
