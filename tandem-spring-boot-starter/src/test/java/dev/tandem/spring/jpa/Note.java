package dev.tandem.spring.jpa;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** An entity with an assigned id: Hibernate inserts it at flush, that is, at the commit of the step's transaction. */
@Entity
@Table(name = "notes")
public class Note {
    @Id
    private String id;
    private String text;

    protected Note() {}

    public Note(String id, String text) {
        this.id = id;
        this.text = text;
    }

    public String getId() {
        return id;
    }

    public String getText() {
        return text;
    }
}
