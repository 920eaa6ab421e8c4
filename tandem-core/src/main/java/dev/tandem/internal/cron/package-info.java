/** Cron expressions: parsing, and the next tick in a time zone. No dependency on the rest of Tandem. */
@NullMarked
package dev.tandem.internal.cron;

import org.jspecify.annotations.NullMarked;
