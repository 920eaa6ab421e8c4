package dev.tandem.internal.exec;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * The application version of an executor that was not given one: the {@code Implementation-Version} in the manifest
 * of the jar that holds the registered workflows' code, else {@code sha-} and the first 12 hex digits of a SHA-256 of
 * the registered workflow names and input types (so it changes when a workflow is added, removed or retyped, not when
 * code inside one changes).
 */
final class AppVersions {
    private AppVersions() {}

    static String derive(Collection<RegisteredWorkflow<?, ?>> registered) {
        List<RegisteredWorkflow<?, ?>> sorted = registered.stream()
                .sorted(Comparator.comparing(RegisteredWorkflow::name)).toList();
        for (RegisteredWorkflow<?, ?> workflow : sorted) {
            Package pkg = workflow.function().getClass().getPackage();
            String version = pkg == null ? null : pkg.getImplementationVersion();
            if (version != null && !version.isBlank() && !pkg.getName().startsWith("dev.tandem.internal")) {
                return version.strip();
            }
        }
        StringBuilder names = new StringBuilder();
        for (RegisteredWorkflow<?, ?> workflow : sorted) {
            names.append(workflow.name()).append(':').append(workflow.inputType().getName()).append('\n');
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(names.toString().getBytes(StandardCharsets.UTF_8));
            return "sha-" + HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
