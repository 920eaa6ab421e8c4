/**
 * The operators' side of Tandem. {@link dev.tandem.admin.Operations} reads and acts on schema {@code tandem} over a
 * DataSource (no engine needed); {@link dev.tandem.admin.TandemAdmin} serves it as an HTTP API under {@code /api/v1}
 * and a dashboard at {@code /}, inside the application or standalone ({@code java -jar tandem-admin.jar}). Everything
 * under {@code dev.tandem.admin.internal} is not API.
 */
@NullMarked
package dev.tandem.admin;

import org.jspecify.annotations.NullMarked;
