package dev.tandem.examples.springorders;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** An order, as JPA sees it: the "ship" step changes its status, flushed when the step's transaction commits. */
@Entity
@Table(name = "orders")
public class ShopOrder {
    @Id
    private Long id;
    private String customer;
    @Column(name = "amount_cents")
    private int amountCents;
    private String status;

    protected ShopOrder() {}

    public Long getId() {
        return id;
    }

    public String getStatus() {
        return status;
    }

    /** Marks the order shipped; refuses an order that was not paid. */
    public void ship() {
        if (!"PAID".equals(status)) {
            throw new IllegalStateException("order " + id + " is " + status + ", not PAID: it cannot be shipped");
        }
        status = "SHIPPED";
    }
}
