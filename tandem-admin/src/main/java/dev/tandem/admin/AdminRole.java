package dev.tandem.admin;

/** What a caller of the admin API may do. */
public enum AdminRole {
    /** Reads everything (inputs and outputs unless hidden from viewers); takes no action. */
    VIEWER,
    /** Reads everything and takes actions: cancel, resume, fork, restart, send, bulk actions, schedule changes. */
    OPERATOR;

    public boolean mayAct() {
        return this == OPERATOR;
    }
}
