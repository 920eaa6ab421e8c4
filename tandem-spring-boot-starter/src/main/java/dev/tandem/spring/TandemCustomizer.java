package dev.tandem.spring;

import dev.tandem.Tandem;
import dev.tandem.TandemBuilder;

/**
 * A bean that adjusts the auto-configured engine's builder, for what {@code tandem.*} properties cannot express (an
 * {@code ObjectMapper}, an own {@code TransactionRunner}, a queue computed at startup). Every such bean is called, in
 * {@code @Order}, after the properties are applied and before the engine is built.
 *
 * <pre>{@code
 * @Bean
 * TandemCustomizer tandemMapper(ObjectMapper mapper) {
 *     return builder -> builder.objectMapper(mapper);
 * }
 * }</pre>
 */
@FunctionalInterface
public interface TandemCustomizer {
    void customize(TandemBuilder builder);
}
