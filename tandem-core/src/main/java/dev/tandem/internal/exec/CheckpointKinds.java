package dev.tandem.internal.exec;

/** The kinds of checkpoint ({@code tandem.steps.kind}), one per kind of durable call a workflow makes. */
final class CheckpointKinds {
    static final String STEP = "STEP";
    static final String TRANSACTION = "TRANSACTION";
    static final String SLEEP = "SLEEP";
    static final String RECV = "RECV";
    static final String SEND = "SEND";
    static final String SET_EVENT = "SET_EVENT";
    static final String WRITE_STREAM = "WRITE_STREAM";
    static final String CHILD = "CHILD";
    static final String CHILD_RESULT = "CHILD_RESULT";
    /** Which side of a code change an execution took ({@code ctx.patched}); named after the change. */
    static final String PATCH = "PATCH";

    private CheckpointKinds() {}

    /** How a kind is named in messages: "transaction 'charge' (#2)". */
    static String describe(String kind) {
        return switch (kind) {
            case TRANSACTION -> "transaction";
            case SLEEP -> "sleep";
            case RECV -> "recv";
            case SEND -> "send";
            case SET_EVENT -> "setEvent";
            case WRITE_STREAM -> "writeStream";
            case CHILD -> "child workflow";
            case CHILD_RESULT -> "child result";
            case PATCH -> "patch";
            default -> "step";
        };
    }
}
