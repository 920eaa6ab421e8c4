package dev.tandem.cli;

import dev.tandem.admin.Operations;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A leaf command: returns its exit code; reaches the run's {@link Session} through the root command. */
abstract class BaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    Session session() {
        return ((TandemCli) spec.root().userObject()).session();
    }

    /** Whether a failure should print its stack trace. */
    boolean verbose() {
        return false;
    }

    /** A command that works on the database: takes {@code --database-url} and {@code --verbose}. */
    abstract static class WithDatabase extends BaseCommand {
        @Mixin
        DatabaseOptions database;

        @Override
        boolean verbose() {
            return database.verbose;
        }

        Operations ops() {
            return database.operations(session());
        }
    }
}
