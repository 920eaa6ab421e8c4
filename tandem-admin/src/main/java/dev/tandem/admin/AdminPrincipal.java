package dev.tandem.admin;

/** Who a request comes from, as the audit log names them, and their role. */
public record AdminPrincipal(String name, AdminRole role) {
    public AdminPrincipal {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("principal name must not be null or blank: the audit log records it");
        }
        if (role == null) {
            throw new IllegalArgumentException("role of principal '" + name + "' must not be null");
        }
    }
}
