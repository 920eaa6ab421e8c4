package dev.tandem.testing;

import dev.tandem.Tandem;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension: the engines a test builds, closed after it in the order they were added. Use as
 * {@code @RegisterExtension final Engines engines = new Engines();} and {@code engines.add(tandem)}.
 */
public final class Engines implements AfterEachCallback {
    private final List<Tandem> engines = new ArrayList<>();

    /** Closes {@code tandem} after the test; returns it. */
    public Tandem add(Tandem tandem) {
        engines.add(tandem);
        return tandem;
    }

    public Tandem get(int index) {
        return engines.get(index);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        engines.forEach(Tandem::close);
        engines.clear();
    }
}
