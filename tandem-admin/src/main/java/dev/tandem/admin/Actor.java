package dev.tandem.admin;

/**
 * Who takes an action, for the audit log: {@code name} is the principal (a token's name, the application's
 * authenticated user, the CLI's OS user), {@code source} where the action came from ({@code api} or {@code cli}).
 */
public record Actor(String name, String source) {
    public Actor {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("actor name must not be null or blank: the audit log records who acted");
        }
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("actor source must not be null or blank (e.g. 'api' or 'cli')");
        }
    }
}
