package dev.tandem.examples.orders;

/** An order as the {@code quote} step loaded it; recorded as JSON in that step's checkpoint. */
record Order(long id, String customer, int amountCents) {}
