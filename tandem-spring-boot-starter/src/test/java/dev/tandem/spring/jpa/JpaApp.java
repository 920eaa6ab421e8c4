package dev.tandem.spring.jpa;

import dev.tandem.spring.WorkflowDefinition;
import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.orm.jpa.SharedEntityManagerCreator;

/** A JPA application: Boot's JpaTransactionManager is the only transaction manager. */
@SpringBootConfiguration
@EnableAutoConfiguration
public class JpaApp {
    public static final String SCHEMA = "CREATE TABLE IF NOT EXISTS notes (id text PRIMARY KEY, text text);"
            + "CREATE TABLE IF NOT EXISTS payments (order_id text, source text, amount_cents int)";

    /**
     * Persists a note (flushed at commit) and inserts a payment with JdbcTemplate, in the step's transaction. An input
     * starting with "dup:" persists a note whose id exists: the flush at commit fails, after the checkpoint's insert.
     */
    @Bean
    WorkflowDefinition<String, String> note(EntityManagerFactory emf, JdbcTemplate jdbc) {
        EntityManager em = SharedEntityManagerCreator.createSharedEntityManager(emf);
        return WorkflowDefinition.of("note", String.class, (ctx, id) -> ctx.transaction("write", conn -> {
            String noteId = id.startsWith("dup:") ? id.substring(4) : id;
            em.persist(new Note(noteId, "written by " + id));
            jdbc.update("INSERT INTO payments (order_id, source, amount_cents) VALUES (?, 'jpa-step', 5)", id);
            return "noted";
        }));
    }
}
