package dev.tandem.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test class that uses Tandem. Before its first test, the class gets a database of its own on a real PostgreSQL
 * (an embedded server started once per JVM, or the server {@code TANDEM_TEST_DATABASE_URL} names), migrated, with
 * a {@link TestClock}; it is dropped after the last test. Each test method may take a {@link TandemKit} (its engine
 * and helpers, closed after the test, which empties schema {@code tandem} for the next one), a {@link TestClock} or
 * the database's {@link javax.sql.DataSource} as parameters.
 *
 * <p>Works in a {@code @SpringBootTest} too: the kit's database is the test class's, apart from the application's.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(TandemExtension.class)
public @interface TandemTest {
}
