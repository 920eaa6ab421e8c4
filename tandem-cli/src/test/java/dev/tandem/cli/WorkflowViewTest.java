package dev.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WorkflowViewTest {

    @Test
    void aBarIsPlacedByItsOffsetAndIsAtLeastOneCharacterLong() {
        assertThat(WorkflowView.bar(0, 50, 100)).startsWith("|█").endsWith(" |");
        assertThat(WorkflowView.bar(99, 0, 100)).endsWith("█|");
    }

    @Test
    void aStepThatStartedBeforeTheWorkflowsCreatedAtStartsTheBar() {
        // The database's and the executor's clocks can disagree by a few milliseconds.
        assertThat(WorkflowView.bar(-3, 10, 100)).startsWith("|█");
    }
}
