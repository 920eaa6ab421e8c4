package dev.tandem;

import org.jspecify.annotations.Nullable;

/** The body of a step: any code, typically with side effects outside the database (HTTP calls, e-mail, files). */
@FunctionalInterface
public interface StepFunction<T extends @Nullable Object> {
    T run() throws Exception;
}
