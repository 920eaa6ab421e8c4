package dev.tandem.spring;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.asm.ClassReader;
import org.springframework.asm.ClassVisitor;
import org.springframework.asm.ConstantDynamic;
import org.springframework.asm.Handle;
import org.springframework.asm.Label;
import org.springframework.asm.MethodVisitor;
import org.springframework.asm.Opcodes;
import org.springframework.asm.SpringAsmInfo;
import org.springframework.asm.Type;

/**
 * Finds the calls of a bean's own {@code @Step} and {@code @TransactionalStep} methods through {@code this} (written
 * {@code this.charge(id)}, {@code charge(id)}, {@code super.charge(id)} or {@code this::charge}), which bypass the
 * bean's Spring proxy: inside a workflow such a step would run without a checkpoint. Spring AOP cannot see these calls
 * at run time, so the starter reads the bytecode of the bean's class and its superclasses (with the ASM that Spring
 * ships) when the bean is created, and refuses to start.
 *
 * <p>It follows which operand stack slot holds {@code this} (local 0 of an instance method, including the lambda
 * bodies javac generates as instance methods), so a call through a field that holds the bean's proxy ({@code
 * self.charge(id)}) is not reported. Calls made inside a step method are not reported either: there a step runs as
 * part of the calling step, through the proxy or not. Not seen: calls from inner or anonymous classes (through {@code
 * Outer.this}), and a class whose bytecode cannot be read; the check then says nothing rather than guess.
 */
final class SelfInvocationCheck {
    private SelfInvocationCheck() {}

    /** Each call of one of {@code steps} through {@code this} in {@code beanClass}, described for a person. */
    static List<String> find(Class<?> beanClass, Collection<Method> steps) throws IOException {
        Set<String> stepKeys = new HashSet<>();
        Set<String> stepNames = new HashSet<>();
        for (Method step : steps) {
            stepKeys.add(step.getName() + Type.getMethodDescriptor(step));
            stepNames.add(step.getName());
        }
        List<Class<?>> hierarchy = new ArrayList<>();
        for (Class<?> c = beanClass; c != null && c != Object.class && !isPlatform(c); c = c.getSuperclass()) {
            hierarchy.add(c);
        }
        Set<String> owners = new HashSet<>();
        hierarchy.forEach(c -> owners.add(Type.getInternalName(c)));
        List<String> found = new ArrayList<>();
        for (Class<?> c : hierarchy) {
            try (InputStream in = c.getResourceAsStream("/" + Type.getInternalName(c) + ".class")) {
                if (in != null) {
                    new ClassReader(in).accept(new Scanner(c, owners, stepKeys, stepNames, found),
                            ClassReader.EXPAND_FRAMES);
                }
            }
        }
        return found;
    }

    private static boolean isPlatform(Class<?> c) {
        String name = c.getName();
        return name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jakarta.")
                || name.startsWith("org.springframework.");
    }

    private static final class Scanner extends ClassVisitor {
        private final Class<?> type;
        private final Set<String> owners;
        private final Set<String> stepKeys;
        private final Set<String> stepNames;
        private final List<String> found;
        private @Nullable String source;

        Scanner(Class<?> type, Set<String> owners, Set<String> stepKeys, Set<String> stepNames, List<String> found) {
            super(SpringAsmInfo.ASM_VERSION);
            this.type = type;
            this.owners = owners;
            this.stepKeys = stepKeys;
            this.stepNames = stepNames;
            this.found = found;
        }

        @Override
        public void visitSource(@Nullable String source, @Nullable String debug) {
            this.source = source;
        }

        @Override
        public @Nullable MethodVisitor visitMethod(int access, String name, String descriptor,
                @Nullable String signature, String @Nullable [] exceptions) {
            if ((access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0 || stepKeys.contains(name + descriptor)
                    || isLambdaOfStep(name)) {
                return null;
            }
            String caller = type.getSimpleName() + "." + (name.startsWith("lambda$")
                    ? name.substring(7, name.lastIndexOf('$')) + " (in a lambda)" : name);
            return new StackTracker((access & Opcodes.ACC_STATIC) == 0, caller);
        }

        /** javac names a lambda body in method m {@code lambda$m$0}. */
        private boolean isLambdaOfStep(String name) {
            if (!name.startsWith("lambda$") || name.lastIndexOf('$') <= 7) {
                return false;
            }
            return stepNames.contains(name.substring(7, name.lastIndexOf('$')));
        }

        /**
         * Simulates the operand stack, one entry per slot (a long or double takes two), each telling whether it holds
         * {@code this}. A jump records the stack for its target; where control flow merges a slot holds {@code this}
         * only if it does on every path; where the stack is not known (after a jump nobody recorded), the stack map
         * frame gives its size and nothing is taken for {@code this}.
         */
        private final class StackTracker extends MethodVisitor {
            private final String caller;
            private boolean local0IsThis;
            private @Nullable List<Boolean> stack = new ArrayList<>();
            private final Map<Label, List<Boolean>> atLabel = new HashMap<>();
            private int line;

            StackTracker(boolean instance, String caller) {
                super(SpringAsmInfo.ASM_VERSION);
                this.local0IsThis = instance;
                this.caller = caller;
            }

            private void op(int pop, int push) {
                if (stack == null) {
                    return;
                }
                if (stack.size() < pop) {
                    stack = null; // lost track: say nothing until the next frame
                    return;
                }
                for (int i = 0; i < pop; i++) {
                    stack.remove(stack.size() - 1);
                }
                for (int i = 0; i < push; i++) {
                    stack.add(false);
                }
            }

            /** Copies of the top {@code n} slots, inserted {@code depth} slots below the top (the DUP family). */
            private void dup(int n, int depth) {
                if (stack == null || stack.size() < n + depth) {
                    stack = null;
                    return;
                }
                List<Boolean> top = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
                stack.addAll(stack.size() - n - depth, top);
            }

            private void jumpTo(Label label) {
                if (stack != null) {
                    List<Boolean> recorded = atLabel.get(label);
                    atLabel.put(label, recorded == null ? new ArrayList<>(stack) : merge(recorded, stack));
                }
            }

            private static @Nullable List<Boolean> merge(@Nullable List<Boolean> a, @Nullable List<Boolean> b) {
                if (a == null || b == null || a.size() != b.size()) {
                    return null;
                }
                List<Boolean> merged = new ArrayList<>(a.size());
                for (int i = 0; i < a.size(); i++) {
                    merged.add(a.get(i) && b.get(i));
                }
                return merged;
            }

            @Override
            public void visitLabel(Label label) {
                if (atLabel.containsKey(label)) {
                    List<Boolean> recorded = atLabel.get(label);
                    stack = stack == null ? (recorded == null ? null : new ArrayList<>(recorded))
                            : merge(stack, recorded);
                }
            }

            @Override
            public void visitLineNumber(int line, Label start) {
                this.line = line;
            }

            @Override
            public void visitFrame(int type, int numLocal, Object @Nullable [] local, int numStack,
                    Object @Nullable [] stackTypes) {
                int slots = 0;
                for (int i = 0; i < numStack && stackTypes != null; i++) {
                    slots += stackTypes[i] == Opcodes.LONG || stackTypes[i] == Opcodes.DOUBLE ? 2 : 1;
                }
                if (stack == null || stack.size() != slots) {
                    stack = new ArrayList<>();
                    op(0, slots);
                }
            }

            @Override
            public void visitInsn(int opcode) {
                switch (opcode) {
                    case Opcodes.NOP -> { }
                    case Opcodes.ACONST_NULL, Opcodes.ICONST_M1, Opcodes.ICONST_0, Opcodes.ICONST_1, Opcodes.ICONST_2,
                            Opcodes.ICONST_3, Opcodes.ICONST_4, Opcodes.ICONST_5, Opcodes.FCONST_0, Opcodes.FCONST_1,
                            Opcodes.FCONST_2 -> op(0, 1);
                    case Opcodes.LCONST_0, Opcodes.LCONST_1, Opcodes.DCONST_0, Opcodes.DCONST_1 -> op(0, 2);
                    case Opcodes.IALOAD, Opcodes.FALOAD, Opcodes.AALOAD, Opcodes.BALOAD, Opcodes.CALOAD,
                            Opcodes.SALOAD -> op(2, 1);
                    case Opcodes.LALOAD, Opcodes.DALOAD -> op(2, 2);
                    case Opcodes.IASTORE, Opcodes.FASTORE, Opcodes.AASTORE, Opcodes.BASTORE, Opcodes.CASTORE,
                            Opcodes.SASTORE -> op(3, 0);
                    case Opcodes.LASTORE, Opcodes.DASTORE -> op(4, 0);
                    case Opcodes.POP, Opcodes.MONITORENTER, Opcodes.MONITOREXIT -> op(1, 0);
                    case Opcodes.POP2 -> op(2, 0);
                    case Opcodes.DUP -> dup(1, 0);
                    case Opcodes.DUP_X1 -> dup(1, 1);
                    case Opcodes.DUP_X2 -> dup(1, 2);
                    case Opcodes.DUP2 -> dup(2, 0);
                    case Opcodes.DUP2_X1 -> dup(2, 1);
                    case Opcodes.DUP2_X2 -> dup(2, 2);
                    case Opcodes.SWAP -> {
                        if (stack != null && stack.size() >= 2) {
                            stack.add(stack.remove(stack.size() - 2));
                        } else {
                            stack = null;
                        }
                    }
                    case Opcodes.INEG, Opcodes.FNEG, Opcodes.I2F, Opcodes.F2I, Opcodes.I2B, Opcodes.I2C, Opcodes.I2S,
                            Opcodes.ARRAYLENGTH -> op(1, 1);
                    case Opcodes.LNEG, Opcodes.DNEG, Opcodes.L2D, Opcodes.D2L -> op(2, 2);
                    case Opcodes.ISHL, Opcodes.ISHR, Opcodes.IUSHR, Opcodes.IAND, Opcodes.IOR, Opcodes.IXOR,
                            Opcodes.FCMPL, Opcodes.FCMPG, Opcodes.L2I, Opcodes.L2F, Opcodes.D2I,
                            Opcodes.D2F -> op(2, 1);
                    case Opcodes.LSHL, Opcodes.LSHR, Opcodes.LUSHR -> op(3, 2);
                    case Opcodes.LAND, Opcodes.LOR, Opcodes.LXOR -> op(4, 2);
                    case Opcodes.I2L, Opcodes.I2D, Opcodes.F2L, Opcodes.F2D -> op(1, 2);
                    case Opcodes.LCMP, Opcodes.DCMPL, Opcodes.DCMPG -> op(4, 1);
                    case Opcodes.IRETURN, Opcodes.LRETURN, Opcodes.FRETURN, Opcodes.DRETURN, Opcodes.ARETURN,
                            Opcodes.RETURN, Opcodes.ATHROW -> stack = null;
                    default -> {
                        if (opcode >= Opcodes.IADD && opcode <= Opcodes.DREM) { // add, sub, mul, div, rem: I L F D
                            boolean wide = (opcode - Opcodes.IADD) % 2 == 1;
                            op(wide ? 4 : 2, wide ? 2 : 1);
                        } else {
                            stack = null;
                        }
                    }
                }
            }

            @Override
            public void visitIntInsn(int opcode, int operand) {
                op(opcode == Opcodes.NEWARRAY ? 1 : 0, 1);
            }

            @Override
            public void visitVarInsn(int opcode, int var) {
                switch (opcode) {
                    case Opcodes.ILOAD, Opcodes.FLOAD -> op(0, 1);
                    case Opcodes.LLOAD, Opcodes.DLOAD -> op(0, 2);
                    case Opcodes.ALOAD -> {
                        op(0, 1);
                        if (stack != null && var == 0 && local0IsThis) {
                            stack.set(stack.size() - 1, true);
                        }
                    }
                    case Opcodes.ISTORE, Opcodes.FSTORE, Opcodes.ASTORE -> op(1, 0);
                    case Opcodes.LSTORE, Opcodes.DSTORE -> op(2, 0);
                    default -> { } // RET
                }
                if (var == 0 && opcode >= Opcodes.ISTORE && opcode <= Opcodes.ASTORE) {
                    local0IsThis = false;
                }
            }

            @Override
            public void visitTypeInsn(int opcode, String type) {
                if (opcode == Opcodes.NEW) {
                    op(0, 1);
                } else if (opcode != Opcodes.CHECKCAST) { // a cast keeps the slot's provenance
                    op(1, 1);
                }
            }

            @Override
            public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
                int size = Type.getType(descriptor).getSize();
                switch (opcode) {
                    case Opcodes.GETSTATIC -> op(0, size);
                    case Opcodes.PUTSTATIC -> op(size, 0);
                    case Opcodes.GETFIELD -> op(1, size);
                    default -> op(size + 1, 0);
                }
            }

            @Override
            public void visitMethodInsn(int opcode, String owner, String name, String descriptor,
                    boolean isInterface) {
                int sizes = Type.getArgumentsAndReturnSizes(descriptor);
                int arguments = (sizes >> 2) - (opcode == Opcodes.INVOKESTATIC ? 1 : 0); // with the receiver
                if (opcode != Opcodes.INVOKESTATIC && owners.contains(owner) && stepKeys.contains(name + descriptor)
                        && holdsThis(arguments)) {
                    report(name + "(...)");
                }
                op(arguments, sizes & 3);
            }

            @Override
            public void visitInvokeDynamicInsn(String name, String descriptor, Handle bootstrap,
                    Object... bootstrapArguments) {
                int sizes = Type.getArgumentsAndReturnSizes(descriptor);
                int arguments = (sizes >> 2) - 1;
                // this::charge: LambdaMetafactory's implementation method, with this as the first captured argument.
                if (bootstrapArguments.length >= 2 && bootstrapArguments[1] instanceof Handle impl
                        && impl.getTag() != Opcodes.H_INVOKESTATIC && owners.contains(impl.getOwner())
                        && stepKeys.contains(impl.getName() + impl.getDesc()) && arguments >= 1
                        && holdsThis(arguments)) {
                    report("this::" + impl.getName());
                }
                op(arguments, sizes & 3);
            }

            /** Whether the slot below the top {@code depth - 1} slots (a call's receiver) holds this. */
            private boolean holdsThis(int depth) {
                return stack != null && stack.size() >= depth && stack.get(stack.size() - depth);
            }

            private void report(String call) {
                found.add(caller + " calls " + call + " through 'this'"
                        + (source != null && line > 0 ? " (" + source + ":" + line + ")" : ""));
            }

            @Override
            public void visitJumpInsn(int opcode, Label label) {
                switch (opcode) {
                    case Opcodes.GOTO -> {
                        jumpTo(label);
                        stack = null;
                    }
                    case Opcodes.IF_ICMPEQ, Opcodes.IF_ICMPNE, Opcodes.IF_ICMPLT, Opcodes.IF_ICMPGE,
                            Opcodes.IF_ICMPGT, Opcodes.IF_ICMPLE, Opcodes.IF_ACMPEQ, Opcodes.IF_ACMPNE -> {
                        op(2, 0);
                        jumpTo(label);
                    }
                    case Opcodes.JSR -> stack = null;
                    default -> { // IFEQ ... IFLE, IFNULL, IFNONNULL
                        op(1, 0);
                        jumpTo(label);
                    }
                }
            }

            @Override
            public void visitLdcInsn(Object value) {
                op(0, value instanceof Long || value instanceof Double ? 2
                        : value instanceof ConstantDynamic c ? Type.getType(c.getDescriptor()).getSize() : 1);
            }

            @Override
            public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
                op(1, 0);
                jumpTo(dflt);
                for (Label label : labels) {
                    jumpTo(label);
                }
                stack = null;
            }

            @Override
            public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
                visitTableSwitchInsn(0, 0, dflt, labels);
            }

            @Override
            public void visitMultiANewArrayInsn(String descriptor, int numDimensions) {
                op(numDimensions, 1);
            }
        }
    }
}
