package dev.tandem.cli;

import dev.tandem.admin.Actor;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Who acts, for {@code tandem.audit_log}: the OS user unless {@code --actor} says otherwise; the source is cli. */
final class ActorOptions {
    static final String SOURCE = "cli";

    @Option(names = "--actor", paramLabel = "NAME",
            description = "Who is acting, for the audit log (default: the OS user)")
    @Nullable String actor;

    Actor actor() {
        String name = actor != null ? actor : System.getProperty("user.name");
        if (name == null || name.isBlank()) {
            throw CliException.badInput("cannot tell who is acting (no OS user name): pass --actor NAME");
        }
        return new Actor(name, SOURCE);
    }
}
