package dev.tandem.spring;

import dev.tandem.TransactionRunner;
import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowFunction;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.framework.autoproxy.AbstractBeanFactoryAwareAdvisingPostProcessor;
import org.springframework.aop.support.AopUtils;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ClassUtils;

/**
 * Proxies every bean that has {@link Workflow @Workflow}, {@link Step @Step} or {@link TransactionalStep
 * TransactionalStep} methods with {@link AnnotationInterceptor} (a class-based proxy, or the bean's existing proxy with
 * this advice first), and collects its workflows in {@link AnnotatedWorkflows}. When such a bean is created it checks,
 * and otherwise fails the startup with a message saying what to change: that each annotated method can be intercepted
 * (not private, final or static), that a workflow method's parameters are {@code (I)} or {@code (WorkflowContext, I)},
 * that the bean is a singleton, and that no step method of the bean is called through {@code this} ({@link
 * SelfInvocationCheck}).
 */
final class TandemAnnotationPostProcessor extends AbstractBeanFactoryAwareAdvisingPostProcessor {
    private static final Logger log = LoggerFactory.getLogger(TandemAnnotationPostProcessor.class);

    private final AnnotatedWorkflows workflows = new AnnotatedWorkflows();
    private @Nullable BeanFactory factory;

    TandemAnnotationPostProcessor() {
        setProxyTargetClass(true); // a step method need not be declared by an interface
        setBeforeExistingAdvisors(true); // the checkpoint around everything else, @Transactional included
    }

    AnnotatedWorkflows workflows() {
        return workflows;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        super.setBeanFactory(beanFactory);
        this.factory = beanFactory;
        this.advisor = new DefaultPointcutAdvisor(new StaticMethodMatcherPointcut() {
            @Override
            public boolean matches(Method method, Class<?> targetClass) {
                Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
                return isAnnotated(specific) || isAnnotated(method);
            }
        }, new AnnotationInterceptor(() -> beanFactory.getBean(TransactionRunner.class)));
    }

    private static boolean isAnnotated(Method method) {
        return AnnotatedElementUtils.hasAnnotation(method, Workflow.class)
                || AnnotatedElementUtils.hasAnnotation(method, Step.class)
                || AnnotatedElementUtils.hasAnnotation(method, TransactionalStep.class);
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        Class<?> type = AopUtils.getTargetClass(bean);
        Map<Method, AnnotationInterceptor.Kind> annotated = MethodIntrospector.selectMethods(type,
                (MethodIntrospector.MetadataLookup<AnnotationInterceptor.Kind>) method -> isAnnotated(method)
                        ? AnnotationInterceptor.kind(method) : null);
        if (annotated.isEmpty()) {
            return bean;
        }
        List<Method> steps = new ArrayList<>();
        annotated.forEach((method, kind) -> {
            checkInterceptable(method, kind);
            if (kind.workflow() == null) {
                steps.add(method);
            }
        });
        checkNoSelfInvocation(type, beanName, steps);
        Object proxy = super.postProcessAfterInitialization(bean, beanName);
        if (!AopUtils.isAopProxy(proxy)) {
            throw new IllegalStateException("bean '" + beanName + "' (" + type.getName() + ") has Tandem annotations"
                    + " but could not be proxied, so its steps would run without checkpoints");
        }
        annotated.forEach((method, kind) -> {
            if (kind.workflow() != null) {
                addWorkflow(proxy, beanName, method, kind);
            }
        });
        return proxy;
    }

    private static void checkInterceptable(Method method, AnnotationInterceptor.Kind kind) {
        int modifiers = method.getModifiers();
        if (Modifier.isPrivate(modifiers) || Modifier.isFinal(modifiers) || Modifier.isStatic(modifiers)) {
            String annotation = kind.workflow() != null ? "@Workflow" : kind.step() != null ? "@Step"
                    : "@TransactionalStep";
            throw new IllegalStateException(annotation + " method " + kind.where() + " is "
                    + Modifier.toString(modifiers & (Modifier.PRIVATE | Modifier.FINAL | Modifier.STATIC))
                    + ", so the bean's proxy cannot intercept it; make it public (or protected) and not final or"
                    + " static");
        }
    }

    private static void checkNoSelfInvocation(Class<?> type, String beanName, List<Method> steps) {
        if (steps.isEmpty()) {
            return;
        }
        List<String> calls;
        try {
            calls = SelfInvocationCheck.find(type, steps);
        } catch (IOException | RuntimeException e) {
            log.warn("Tandem could not read the bytecode of {} to check that its step methods are not called through"
                    + " 'this' (they must be called through the bean's proxy): {}", type.getName(), e.toString());
            return;
        }
        if (!calls.isEmpty()) {
            throw new IllegalStateException("bean '" + beanName + "' calls its own step methods through 'this', which"
                    + " bypasses the bean's proxy: inside a workflow such a step would run without a checkpoint. "
                    + String.join("; ", calls) + ". Call steps through a proxy: move them to another bean and"
                    + " inject it, or inject this bean into itself (@Lazy) and call them on that reference, or use"
                    + " ctx.step(...) / ctx.transaction(...) in the workflow instead (docs/spring.md, the"
                    + " self-invocation rule)");
        }
    }

    private void addWorkflow(Object proxy, String beanName, Method method, AnnotationInterceptor.Kind kind) {
        if (factory instanceof ConfigurableListableBeanFactory f && f.containsBeanDefinition(beanName)
                && !f.getMergedBeanDefinition(beanName).isSingleton()) {
            throw new IllegalStateException("@Workflow method " + kind.where() + " is on bean '" + beanName
                    + "', which is not a singleton; the engine runs a workflow on one instance: make it a singleton");
        }
        Class<?>[] parameters = method.getParameterTypes();
        boolean withContext = parameters.length == 2 && parameters[0] == WorkflowContext.class;
        if (!(parameters.length == 1 && parameters[0] != WorkflowContext.class) && !withContext) {
            throw new IllegalStateException("@Workflow method " + kind.where() + " must take its input, (I input),"
                    + " or the context and its input, (WorkflowContext ctx, I input); it takes "
                    + parameters.length + " parameter(s)");
        }
        Class<?> inputType = ClassUtils.resolvePrimitiveIfNecessary(parameters[withContext ? 1 : 0]);
        Method invocable = AopUtils.selectInvocableMethod(method, proxy.getClass());
        WorkflowFunction<Object, @Nullable Object> function = (ctx, input) -> AnnotationInterceptor.runWorkflow(
                ctx, proxy, invocable, withContext ? new Object[] {ctx, input} : new Object[] {input});
        workflows.add(kind.name(), method, inputType, function, kind.where() + " (bean '" + beanName + "')");
    }
}
