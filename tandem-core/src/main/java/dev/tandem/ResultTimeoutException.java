package dev.tandem;

/** {@link WorkflowHandle#result} waited the given time and the workflow had not finished; it keeps running. */
public class ResultTimeoutException extends TandemException {
    public ResultTimeoutException(String message) {
        super(message);
    }
}
