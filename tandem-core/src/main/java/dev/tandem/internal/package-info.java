/** Tandem's implementation. Not API: anything here may change in any release. */
@NullMarked
package dev.tandem.internal;

import org.jspecify.annotations.NullMarked;
