/**
 * The database layer: the only code that talks JDBC. Named queries ({@code queries.sql}), schema migrations, JSON
 * encoding of inputs and outputs, and the classification of SQL errors the engine reacts to.
 */
@NullMarked
package dev.tandem.internal.db;

import org.jspecify.annotations.NullMarked;
