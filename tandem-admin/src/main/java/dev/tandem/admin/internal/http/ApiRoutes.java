package dev.tandem.admin.internal.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.tandem.admin.Actor;
import dev.tandem.admin.AdminPrincipal;
import dev.tandem.admin.Operations;
import dev.tandem.admin.WorkflowFilter;
import dev.tandem.admin.model.WorkflowDetail;
import dev.tandem.admin.model.WorkflowPage;
import dev.tandem.admin.model.WorkflowRow;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The endpoints under {@code /api/v1}: each maps one request to one call of {@link Operations} and returns what is
 * written as JSON. Reads need a viewer, actions an operator; stored values are hidden from viewers when configured.
 */
final class ApiRoutes {
    private static final Set<String> LIST_KEYS = union(Params.FILTER_KEYS, Set.of("limit", "cursor"));

    private final Operations ops;
    private final ObjectMapper json;
    private final boolean hideValuesFromViewers;
    private final @Nullable String executorId;
    private final Duration heartbeatLimit;

    ApiRoutes(Operations ops, ObjectMapper json, boolean hideValuesFromViewers, @Nullable String executorId,
            Duration heartbeatLimit) {
        this.ops = ops;
        this.json = json;
        this.hideValuesFromViewers = hideValuesFromViewers;
        this.executorId = executorId;
        this.heartbeatLimit = heartbeatLimit;
    }

    /** A request, once its caller is known. */
    record Call(String method, List<String> path, Params query, @Nullable JsonNode body, AdminPrincipal principal) {}

    /** Whether this path is a read that anyone may make (health): it is answered before authentication. */
    static boolean isPublic(String method, List<String> path) {
        return method.equals("GET") && path.equals(List.of("health"));
    }

    static boolean isAction(String method) {
        return method.equals("POST");
    }

    Object health() {
        return ops.health(executorId, heartbeatLimit);
    }

    Object route(Call call) {
        List<String> p = call.path();
        String method = call.method();
        if (isAction(method) && !call.principal().role().mayAct()) {
            throw new HttpError(403, "role " + call.principal().role() + " may not act; an operator token is needed");
        }
        if (method.equals("GET")) {
            return switch (p.size()) {
                case 1 -> switch (p.get(0)) {
                    case "workflows" -> list(call);
                    case "queues" -> ops.queues();
                    case "executors" -> ops.executors();
                    case "schedules" -> ops.schedules();
                    case "stuck" -> stuck(call);
                    case "audit" -> audit(call);
                    case "me" -> me(call);
                    default -> throw notFound(call);
                };
                case 2 -> p.get(0).equals("workflows") ? (p.get(1).equals("counts") ? counts(call) : detail(call))
                        : throwNotFound(call);
                case 3 -> p.get(0).equals("workflows") && p.get(2).equals("steps") ? detail(call).steps()
                        : throwNotFound(call);
                default -> throw notFound(call);
            };
        }
        if (method.equals("POST")) {
            if (p.size() == 3 && p.get(0).equals("workflows") && p.get(1).equals("bulk")) {
                return bulk(call, p.get(2));
            }
            if (p.size() == 3 && p.get(0).equals("workflows")) {
                return workflowAction(call, p.get(1), p.get(2));
            }
            if (p.size() == 3 && p.get(0).equals("schedules")) {
                return scheduleAction(call, p.get(1), p.get(2));
            }
            throw notFound(call);
        }
        throw new HttpError(405, "method " + method + " is not allowed here; the API takes GET and POST");
    }

    private Object list(Call call) {
        call.query().allowOnly(LIST_KEYS);
        WorkflowFilter filter = filter(call, call.query());
        int limit = call.query().integer("limit", 50, 1, Operations.MAX_PAGE);
        WorkflowPage page = ops.listWorkflows(filter, call.query().text("cursor"), limit);
        if (hides(call)) {
            page = new WorkflowPage(page.workflows().stream().map(WorkflowRow::redact).toList(), page.next());
        }
        return page;
    }

    private Object counts(Call call) {
        call.query().allowOnly(Params.FILTER_KEYS);
        return ops.countWorkflows(filter(call, call.query()));
    }

    private WorkflowDetail detail(Call call) {
        String id = call.path().get(1);
        WorkflowDetail detail = ops.workflow(id)
                .orElseThrow(() -> new HttpError(404, "no workflow with id '" + id + "' exists"));
        return hides(call) ? detail.redact() : detail;
    }

    private Object stuck(Call call) {
        call.query().allowOnly(Set.of("limit"));
        return ops.stuck(call.query().integer("limit", 200, 1, Operations.MAX_PAGE));
    }

    private Object audit(Call call) {
        call.query().allowOnly(Set.of("limit", "before"));
        String before = call.query().text("before");
        Long beforeId;
        try {
            beforeId = before == null ? null : Long.valueOf(before);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("parameter 'before' must be an audit entry id (was '" + before + "')");
        }
        return ops.audit(beforeId, call.query().integer("limit", 100, 1, Operations.MAX_PAGE));
    }

    private Object me(Call call) {
        Map<String, Object> me = new LinkedHashMap<>();
        me.put("name", call.principal().name());
        me.put("role", call.principal().role().name().toLowerCase(java.util.Locale.ROOT));
        me.put("values_hidden", hides(call));
        return me;
    }

    private Object workflowAction(Call call, String id, String action) {
        Body body = new Body(call.body());
        Actor actor = actor(call);
        return switch (action) {
            case "cancel" -> {
                body.allowOnly("with_children");
                yield ops.cancel(id, body.bool("with_children", true), actor);
            }
            case "resume" -> {
                body.allowOnly();
                yield ops.resume(id, actor);
            }
            case "fork" -> {
                body.allowOnly("from_step", "new_workflow_id", "queue");
                Integer step = body.integer("from_step");
                if (step == null) {
                    throw new IllegalArgumentException("fork needs 'from_step' in the body, e.g. {\"from_step\": 3}");
                }
                yield ops.fork(id, step, body.text("new_workflow_id"), body.text("queue"), actor);
            }
            case "restart" -> {
                body.allowOnly("new_workflow_id");
                yield ops.restart(id, body.text("new_workflow_id"), actor);
            }
            case "set-version" -> {
                body.allowOnly("app_version");
                JsonNode version = body.node("app_version");
                if (version == null) {
                    throw new IllegalArgumentException("set-version needs 'app_version' in the body: a version such"
                            + " as \"2026.12.0\", or null to let any version run it");
                }
                yield ops.setVersion(id, body.text("app_version"), actor);
            }
            case "send" -> {
                body.allowOnly("topic", "message", "idempotency_key");
                JsonNode message = body.node("message");
                if (message == null) {
                    throw new IllegalArgumentException("send needs 'message' in the body (any JSON value, e.g."
                            + " {\"message\": {\"approved\": true}})");
                }
                yield ops.send(id, body.text("topic"), message, body.text("idempotency_key"), actor);
            }
            default -> throw notFound(call);
        };
    }

    private Object bulk(Call call, String action) {
        Body body = new Body(call.body());
        body.allowOnly("filter", "dry_run");
        Params filterParams = Params.ofJson(body.node("filter"), json);
        filterParams.allowOnly(Params.FILTER_KEYS);
        WorkflowFilter filter = filter(call, filterParams);
        boolean dryRun = body.bool("dry_run", false);
        return switch (action) {
            case "cancel" -> ops.bulkCancel(filter, dryRun, actor(call));
            case "resume" -> ops.bulkResume(filter, dryRun, actor(call));
            default -> throw notFound(call);
        };
    }

    private Object scheduleAction(Call call, String name, String action) {
        Body body = new Body(call.body());
        Actor actor = actor(call);
        return switch (action) {
            case "pause" -> {
                body.allowOnly();
                yield ops.pauseSchedule(name, actor);
            }
            case "resume" -> {
                body.allowOnly();
                yield ops.resumeSchedule(name, actor);
            }
            case "trigger" -> {
                body.allowOnly();
                yield ops.triggerSchedule(name, actor);
            }
            case "backfill" -> {
                body.allowOnly("from", "to");
                yield ops.backfillSchedule(name, body.instant("from"), body.instant("to"), actor);
            }
            default -> throw notFound(call);
        };
    }

    private WorkflowFilter filter(Call call, Params params) {
        if (hides(call) && (params.has("input") || params.has("output"))) {
            throw new HttpError(403, "inputs and outputs are hidden from viewers, so they cannot filter on them");
        }
        return params.filter(json);
    }

    private boolean hides(Call call) {
        return hideValuesFromViewers && !call.principal().role().mayAct();
    }

    private static Actor actor(Call call) {
        return new Actor(call.principal().name(), "api");
    }

    private static HttpError notFound(Call call) {
        return new HttpError(404, "no endpoint " + call.method() + " /api/v1/" + String.join("/", call.path()));
    }

    private static <T> T throwNotFound(Call call) {
        throw notFound(call);
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        java.util.Set<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }

    /** An action's JSON body: an object (or nothing), whose fields are checked by name and type. */
    private static final class Body {
        private final @Nullable JsonNode node;

        Body(@Nullable JsonNode node) {
            if (node != null && !node.isNull() && !node.isObject()) {
                throw new IllegalArgumentException("the request body must be a JSON object (was " + node + ")");
            }
            this.node = node == null || node.isNull() ? null : node;
        }

        void allowOnly(String... names) {
            if (node == null) {
                return;
            }
            Set<String> allowed = Set.of(names);
            node.fieldNames().forEachRemaining(name -> {
                if (!allowed.contains(name)) {
                    throw new IllegalArgumentException("unknown field '" + name + "' in the body"
                            + (allowed.isEmpty() ? "; this action takes none" : "; known: " + String.join(", ",
                                    allowed.stream().sorted().toList())));
                }
            });
        }

        @Nullable JsonNode node(String name) {
            if (node == null || !node.has(name)) {
                return null;
            }
            JsonNode value = node.get(name);
            return value == null ? NullNode.getInstance() : value;
        }

        @Nullable String text(String name) {
            JsonNode value = node(name);
            if (value == null || value.isNull()) {
                return null;
            }
            if (!value.isTextual()) {
                throw new IllegalArgumentException("field '" + name + "' must be a string (was " + value + ")");
            }
            return value.asText();
        }

        @Nullable Integer integer(String name) {
            JsonNode value = node(name);
            if (value == null || value.isNull()) {
                return null;
            }
            if (!value.canConvertToInt() || !value.isIntegralNumber()) {
                throw new IllegalArgumentException("field '" + name + "' must be a whole number (was " + value + ")");
            }
            return value.asInt();
        }

        boolean bool(String name, boolean defaultValue) {
            JsonNode value = node(name);
            if (value == null || value.isNull()) {
                return defaultValue;
            }
            if (!value.isBoolean()) {
                throw new IllegalArgumentException("field '" + name + "' must be true or false (was " + value + ")");
            }
            return value.asBoolean();
        }

        Instant instant(String name) {
            String text = text(name);
            if (text == null) {
                throw new IllegalArgumentException("field '" + name + "' is required: an ISO-8601 instant such as"
                        + " 2026-11-30T09:00:00Z");
            }
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("field '" + name + "' must be an ISO-8601 instant such as"
                        + " 2026-11-30T09:00:00Z (was '" + text + "')");
            }
        }
    }
}
