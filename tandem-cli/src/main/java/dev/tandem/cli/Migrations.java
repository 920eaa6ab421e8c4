package dev.tandem.cli;

import dev.tandem.internal.db.Migrator;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The schema migrations tandem-core ships ({@code dev/tandem/db/migration/V<n>__<name>.sql}), found next to the
 * {@link Migrator} class (in its jar, or its classes directory) and checked against {@link Migrator#VERSIONS}: the
 * versions the engine applies, each once, or a clear failure.
 */
final class Migrations {
    static final String DIR = "dev/tandem/db/migration/";
    private static final Pattern FILE = Pattern.compile("V(\\d+)__[A-Za-z0-9_]+\\.sql");

    /** One migration file: its version, file name and SQL. */
    record Migration(int version, String file, String sql) {}

    private Migrations() {}

    static List<Migration> all() {
        List<String> files = fileNames();
        files.sort(Comparator.comparingInt(Migrations::version));
        List<Migration> migrations = new ArrayList<>();
        for (String file : files) {
            migrations.add(new Migration(version(file), file, read(file)));
        }
        // The versions the engine applies, each once; they need not be consecutive (each feature numbers its own file).
        List<Integer> found = migrations.stream().map(Migration::version).toList();
        if (!found.equals(Migrator.VERSIONS)) {
            throw new IllegalStateException("the migration files beside tandem-core (" + files + ") are not the"
                    + " versions it applies, " + Migrator.VERSIONS + ", each once; is the jar complete?");
        }
        return migrations;
    }

    private static int version(String file) {
        Matcher m = FILE.matcher(file);
        if (!m.matches()) {
            throw new IllegalStateException("not a migration file name: " + file);
        }
        return Integer.parseInt(m.group(1));
    }

    private static List<String> fileNames() {
        Path location;
        try {
            location = Path.of(Migrator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            throw new IllegalStateException("cannot locate tandem-core's classes to read its migrations", e);
        }
        List<String> names = new ArrayList<>();
        try {
            if (Files.isDirectory(location)) {
                try (Stream<Path> files = Files.list(location.resolve(DIR))) {
                    files.map(p -> p.getFileName().toString()).filter(n -> FILE.matcher(n).matches())
                            .forEach(names::add);
                }
            } else {
                try (JarFile jar = new JarFile(location.toFile())) {
                    jar.stream().map(e -> e.getName()).filter(n -> n.startsWith(DIR))
                            .map(n -> n.substring(DIR.length())).filter(n -> FILE.matcher(n).matches())
                            .forEach(names::add);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list the migrations in " + location + ": " + e.getMessage(), e);
        }
        return names;
    }

    private static String read(String file) {
        try (InputStream in = Migrator.class.getResourceAsStream("/" + DIR + file)) {
            if (in == null) {
                throw new IllegalStateException("missing resource /" + DIR + file);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /" + DIR + file, e);
        }
    }
}
