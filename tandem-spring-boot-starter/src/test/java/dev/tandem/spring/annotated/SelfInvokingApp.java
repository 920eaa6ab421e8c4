package dev.tandem.spring.annotated;

import dev.tandem.spring.Step;
import dev.tandem.spring.Workflow;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;

/** A workflow that calls a step of its own bean through this: the application must not start. */
@SpringBootConfiguration
@EnableAutoConfiguration(excludeName = {
        "org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
        "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration"})
public class SelfInvokingApp {
    @Bean
    Greeter greeter() {
        return new Greeter();
    }

    public static class Greeter {
        @Workflow
        public String greet(String name) {
            return hello(name); // through this: bypasses the proxy
        }

        @Step
        public String hello(String name) {
            return "hello " + name;
        }
    }
}
