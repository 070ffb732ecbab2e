/* The shim's entry from a trampoline, and its own syscall instruction.
 *
 * A patched syscall site jumps to its trampoline, which sets rcx to the
 * trampoline's address and jumps here with the program's registers intact
 * (rax holds the syscall number; rcx and r11 are free, as the syscall
 * instruction clobbers them anyway). The shim runs on its own stack, so the
 * program's stack (and its red zone) are never touched, and returns through
 * one of the trampoline's tails with every register the program's again:
 *   done: rax = the result; rcx = the site + 2, r11 = the flags, as the
 *         kernel would leave them
 *   slow: rax = the syscall number; the tail makes the syscall, traced
 *   stop: as done, through an int3 the tracer is waiting for
 */
#include "shim_abi.h"

#define CONTROL_RETURN_TO 24 /* offsetof(struct ttdb_shim_control, return_to) */

/* The header, at the base (shim.ld puts it first). Its addresses are offsets
 * from the base, so that the same bytes serve at any base: the tracer reads
 * them from its copy of the code. */
        .section .text.header, "a"
        .globl ttdb_shim_header
ttdb_shim_header:
        .quad TTDB_SHIM_MAGIC
        .quad TTDB_SHIM_ABI_VERSION
        .quad ttdb_shim_entry - ttdb_shim_header
        .quad ttdb_untraced_return - ttdb_shim_header
        .quad ttdb_shim_apply_entry - ttdb_shim_header
        .quad ttdb_shim_call_entry - ttdb_shim_header
        .quad ttdb_shim_tsc_entry - ttdb_shim_header
        .quad ttdb_shim_stop_stub - ttdb_shim_header
        .size ttdb_shim_header, . - ttdb_shim_header

/* The shim's data, at fixed offsets from the base, by name: code that refers
 * to them does so relative to its own address (rip), never by an absolute
 * address, so the code runs wherever it is mapped. */
        .globl ttdb_shim_control_block
        .globl ttdb_shim_stack_top
        .globl ttdb_shim_buffer
        .hidden ttdb_shim_control_block
        .hidden ttdb_shim_stack_top
        .hidden ttdb_shim_buffer
        .set ttdb_shim_control_block, ttdb_shim_header + TTDB_SHIM_CONTROL
        .set ttdb_shim_stack_top, ttdb_shim_header + TTDB_SHIM_STACK_TOP
        .set ttdb_shim_buffer, ttdb_shim_header + TTDB_SHIM_BUFFER

/* The program's registers onto the shim's stack, as struct ttdb_shim_frame. */
.macro save_frame
        mov %rsp, %r11
        lea ttdb_shim_stack_top(%rip), %rsp
        push %r11               /* the program's stack pointer */
        pushfq
        push %rcx               /* the trampoline */
        push %rax
        push %rdi
        push %rsi
        push %rdx
        push %r10
        push %r8
        push %r9
        mov %rsp, %rdi          /* struct ttdb_shim_frame */
        cld
.endm

/* The program's registers back from the frame, and on through the tail in
 * rax. `flags`: popfq, or what skips them. */
.macro restore_frame flags
        mov %rax, ttdb_shim_control_block + CONTROL_RETURN_TO(%rip)
        pop %r9
        pop %r8
        pop %r10
        pop %rdx
        pop %rsi
        pop %rdi
        pop %rax
        pop %rcx
        mov TTDB_TRAMPOLINE_SITE(%rcx), %rcx
        add $2, %rcx            /* where the kernel would say the syscall returns */
        mov (%rsp), %r11        /* the flags, as the kernel leaves them in r11 */
        \flags
        pop %rsp
        jmp *ttdb_shim_control_block + CONTROL_RETURN_TO(%rip)
.endm

        .section .text.entry, "ax"
        .globl ttdb_shim_entry
        .type ttdb_shim_entry, @function
ttdb_shim_entry:
        save_frame
        call ttdb_shim_hook     /* returns the tail to go back through */
        /* Every tail gets the flags back, as the syscall instruction keeps
         * them: the site's cmp or test, first in the done and stop tails,
         * sets them again, but a breakpoint there sees them first, and must
         * see the same as after the slow tail's syscall. */
        restore_frame popfq
        .size ttdb_shim_entry, . - ttdb_shim_entry

/* The entry from the sites of the vDSO's functions (their syscall stubs),
 * which the program calls as functions: the clock reads go the shortest way
 * (ttdb_shim_call_hook), the rest as from ttdb_shim_entry, and back the
 * same way, but for the flags: the caller of a function keeps nothing in
 * them, and popfq would cost a million clock reads 3% more. Only the slow
 * tail, whose syscall takes them into r11, gets them back. */
        .globl ttdb_shim_call_entry
        .type ttdb_shim_call_entry, @function
ttdb_shim_call_entry:
        save_frame
        call ttdb_shim_call_hook
        mov %rax, %r11
        and $(TTDB_TRAMPOLINE_SIZE - 1), %r11   /* the tail's offset in its trampoline */
        cmp $TTDB_TAIL_SLOW, %r11
        je 1f
        restore_frame "lea 8(%rsp), %rsp"
1:      restore_frame popfq
        .size ttdb_shim_call_entry, . - ttdb_shim_call_entry

/* The entry from rdtsc sites' trampolines (version 7), which keep every
 * register but rax and rdx, and the flags, as rdtsc does: rdx holds the
 * program's rcx, rcx the trampoline, and rax (free: rdtsc writes it) takes
 * r11 into the frame. The counter goes back in edx:eax, the high halves of
 * rax and rdx zero, as rdtsc leaves them. */
        .globl ttdb_shim_tsc_entry
        .type ttdb_shim_tsc_entry, @function
ttdb_shim_tsc_entry:
        mov %r11, %rax
        save_frame
        call ttdb_shim_tsc_hook /* returns the tail; the counter in control.tsc_value */
        mov %rax, ttdb_shim_control_block + CONTROL_RETURN_TO(%rip)
        pop %r9
        pop %r8
        pop %r10
        pop %rcx                /* the program's rcx, kept in rdx's place */
        pop %rsi
        pop %rdi
        pop %r11                /* the program's r11, kept in rax's place */
        lea 8(%rsp), %rsp       /* the trampoline */
        mov ttdb_shim_control_block + TTDB_CONTROL_TSC_VALUE(%rip), %rax
        mov %rax, %rdx
        shr $32, %rdx
        mov %eax, %eax
        popfq                   /* last: shr set flags */
        pop %rsp
        jmp *ttdb_shim_control_block + CONTROL_RETURN_TO(%rip)
        .size ttdb_shim_tsc_entry, . - ttdb_shim_tsc_entry

/* long ttdb_untraced_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5):
 * the one syscall instruction the seccomp filter lets through untraced, for
 * a call that carries the recording's secret in its argument
 * TTDB_SECRET_ARG (or TTDB_SECRET_ARG_RWV2): the caller puts it there. It
 * is not loaded here, so that code jumping into this function with its own
 * registers is traced like any other. */
        .globl ttdb_untraced_syscall
        .globl ttdb_untraced_return
        .type ttdb_untraced_syscall, @function
ttdb_untraced_syscall:
        mov %rdi, %rax
        mov %rsi, %rdi
        mov %rdx, %rsi
        mov %rcx, %rdx
        mov %r8, %r10
        mov %r9, %r8
        mov 8(%rsp), %r9
        syscall
ttdb_untraced_return:
        ret
        .size ttdb_untraced_syscall, . - ttdb_untraced_syscall

/* Replay: where the replayer sends a stopped thread, registers saved, to
 * make the signal actions the shim kept the kernel's (shim.c). It runs on
 * the shim's stack and stops at the int3, where the replayer gives the
 * thread its registers back. */
        .section .text.entry
        .globl ttdb_shim_apply_entry
        .type ttdb_shim_apply_entry, @function
ttdb_shim_apply_entry:
        lea ttdb_shim_stack_top(%rip), %rsp
        cld
        call ttdb_shim_apply_actions
        int3
        hlt
        .size ttdb_shim_apply_entry, . - ttdb_shim_apply_entry

/* Replay, free running (version 8): where the shim stops the thread for
 * the replayer, the program's registers all back, before it goes on to the
 * trampoline's tail in control.stop_to. At TTDB_TAIL_SLOW in a block the
 * size of a trampoline, so that the vDSO stubs' entry gives the flags back
 * as for a slow tail (which this may lead to). */
        .section .text.entry
        .balign TTDB_TRAMPOLINE_SIZE
        .skip TTDB_TAIL_SLOW, 0xcc
        .globl ttdb_shim_stop_stub
        .type ttdb_shim_stop_stub, @function
ttdb_shim_stop_stub:
        int3
        jmp *ttdb_shim_control_block + TTDB_CONTROL_STOP_TO(%rip)
        .size ttdb_shim_stop_stub, . - ttdb_shim_stop_stub

        .section .note.GNU-stack, "", @progbits
