/*
 * puppet_guest.S — a hostile stand-in for the guest kernel, for testing the
 * host's side of the protocol (tests/sandbox/test_hostile_guest.c).
 *
 * It boots like the real kernel (same ELF sections, same linker script,
 * ring 3 from the first instruction) and answers GET_BOOT_INFO honestly, so
 * that nub_sandbox_create succeeds. Everything else is scripted by the test:
 *
 *   fn PUPPET_FN_SCRIPT (payload: u32 action, then bytes): stores the script
 *       and replies OK, empty, with the request's sequence;
 *   any other fn: plays the stored script:
 *       PUPPET_REPLY    copy the bytes verbatim over the response buffer
 *                       (header included: status, length and sequence are
 *                       whatever the test wrote) and ring the doorbell;
 *       PUPPET_CRASH    `out` to the crash port without writing a report;
 *       PUPPET_IN       `in` from the doorbell port;
 *       PUPPET_HOST_CALL copy the bytes over the response buffer, add the
 *                       buffer's address to the u64s at offsets 8 and 16
 *                       (a host-call record's ctx_gpa and cr3_gpa, given
 *                       relative to the buffer), `out` to the host-call
 *                       port, then serve on (the next doorbell replies
 *                       whatever the buffer then holds).
 *
 * Any exception halts (KVM_EXIT_HLT): the host must report that too.
 */
#define PARAMS_REQUEST_GPA  0x1018 /* struct nub_boot_params.request_gpa */
#define PARAMS_RESPONSE_GPA 0x1028 /* struct nub_boot_params.response_gpa */
#define PORT_COM1           0x3F8
#define PORT_DOORBELL       0x500
#define PORT_CRASH          0x501
#define PORT_HOST_CALL      0x508
#define FN_GET_BOOT_INFO    5
#define PUPPET_FN_SCRIPT    1
#define PUPPET_REPLY        0
#define PUPPET_CRASH        1
#define PUPPET_IN           2
#define PUPPET_HOST_CALL    3
#define SCRIPT_MAX          4096

    .section .text.entry, "ax", @progbits
    .globl nub_kernel_entry
nub_kernel_entry:
    lea     stack_top(%rip), %rsp
    mov     PARAMS_REQUEST_GPA, %r12
    mov     PARAMS_RESPONSE_GPA, %r13
    cld
    /* The response buffer is fresh zeroed memory: an all-zero header is the
     * "ready" reply (OK, length 0, sequence 0). */
serve:
    mov     $PORT_DOORBELL, %dx
    xor     %eax, %eax
    out     %eax, %dx
    mov     0(%r12), %eax               /* fn_id */
    mov     4(%r12), %ecx               /* payload_len */
    cmp     $FN_GET_BOOT_INFO, %eax
    je      boot_info
    cmp     $PUPPET_FN_SCRIPT, %eax
    je      store_script
    /* Play the script. */
    mov     script_action(%rip), %eax
    cmp     $PUPPET_CRASH, %eax
    je      crash
    cmp     $PUPPET_IN, %eax
    je      port_in
    cmp     $PUPPET_HOST_CALL, %eax
    je      host_call
    mov     script_len(%rip), %ecx
    lea     script(%rip), %rsi
    mov     %r13, %rdi
    rep movsb
    jmp     serve
crash:
    mov     $PORT_CRASH, %dx
    out     %eax, %dx
    jmp     serve
port_in:
    mov     $PORT_DOORBELL, %dx
    in      %dx, %eax
    jmp     serve

host_call:
    mov     script_len(%rip), %ecx
    lea     script(%rip), %rsi
    mov     %r13, %rdi
    rep movsb
    add     %r13, 8(%r13)
    add     %r13, 16(%r13)
    mov     $PORT_HOST_CALL, %dx
    out     %eax, %dx
    jmp     serve

store_script:
    cmp     $4, %ecx
    jb      serve
    sub     $4, %ecx
    cmp     $SCRIPT_MAX, %ecx
    jbe     1f
    mov     $SCRIPT_MAX, %ecx
1:  mov     %ecx, script_len(%rip)
    mov     16(%r12), %eax
    mov     %eax, script_action(%rip)
    lea     20(%r12), %rsi
    lea     script(%rip), %rdi
    rep movsb
    movl    $0, 0(%r13)                 /* OK */
    movl    $0, 4(%r13)                 /* no payload */
    mov     8(%r12), %rax
    mov     %rax, 8(%r13)               /* the request's sequence */
    jmp     serve

boot_info:
    movl    $0, 0(%r13)
    movl    $128, 4(%r13)
    mov     8(%r12), %rax
    mov     %rax, 8(%r13)
    lea     puppet_boot_info(%rip), %rsi
    lea     16(%r13), %rdi
    mov     $128, %ecx
    rep movsb
    jmp     serve

/* 33 exception stubs, 16 bytes apart: ring 0 just halts. */
    .balign 16
vector_stubs:
    .rept 33
    .balign 16
    hlt
    jmp     . - 1
    .endr

    .section .boot_info, "a", @progbits
    .balign 64
puppet_boot_info:
    .quad   0x31544F4F4242554E          /* NUB_BOOT_INFO_MAGIC */
    .quad   0                           /* directory_va */
    .quad   1                           /* directory_type_id */
    .quad   0                           /* guest_va_base */
    .fill   12, 8, 0

    .section .nub_layout, "a", @progbits
    .balign 64
    .quad   0x54554F59414C4255          /* NUB_LAYOUT_MAGIC */
    .quad   vector_stubs
    .long   16                          /* stride */
    .long   33                          /* NUB_KERNEL_VECTORS */
    .quad   stack_guard
    .quad   ist_guard
    .quad   ist_top
    .quad   trap_guard
    .quad   trap_top

    .section .bss, "aw", @nobits
    .balign 4096
stack_guard:
    .skip   4096
    .skip   4096
stack_top:
ist_guard:
    .skip   4096
    .skip   4096
ist_top:
trap_guard:
    .skip   4096
    .skip   4096
trap_top:
script_action:
    .skip   4
script_len:
    .skip   4
script:
    .skip   SCRIPT_MAX

    .section .note.GNU-stack, "", @progbits
