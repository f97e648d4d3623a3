/*
 * nub_rpc.h — the RPC protocol between libnubhost and the guest kernel.
 *
 * docs/protocol.md is the prose version of this file. In short:
 *
 *   guest-physical layout (chosen by the host, described to the guest in
 *   struct nub_boot_params at NUB_BOOT_PARAMS_GPA):
 *     0x0000            never mapped (null guard)
 *     0x1000            struct nub_boot_params; crash report at +0x800
 *     0x2000..0xAFFF    host-built GDT, TSS, IDT and page tables (final)
 *     1 MiB             the kernel image (its ELF PT_LOAD segments)
 *     after the image   request buffer, response buffer, then the heap
 *
 *   one call: the host writes a nub_rpc_request_header + payload into the
 *   request buffer and runs the vCPU; the guest dispatches on fn_id, writes
 *   a nub_rpc_response_header + payload into the response buffer and does
 *   ONE `out` to NUB_PORT_DOORBELL. That is the only exit of the call. The
 *   guest's first doorbell (after boot) means "ready" and carries no reply.
 *
 *   A kernel fault writes struct nub_crash_report at NUB_CRASH_REPORT_GPA,
 *   does `out` to NUB_PORT_CRASH and halts for good.
 *
 * Both sides copy structs out of shared memory before checking them; the
 * host checks every guest-written length against its buffer.
 */
#ifndef NUB_RPC_H
#define NUB_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "nub_abi.h"

/* ---- Debug-only function ids (dispatched only with NUB_BOOT_FLAG_DEBUG_FNS) */
#define NUB_FN_ID_DEBUG_FAULT 6 /* u32 kind (NUB_DEBUG_FAULT_*): fault in the kernel */
#define NUB_FN_ID_DEBUG_SPIN  7 /* spins forever: for the host's timeout */
_Static_assert(NUB_FN_ID_DEBUG_SPIN < NUB_GUEST_FN_TABLE_SIZE, "debug ids fit the table");
_Static_assert(NUB_FN_ID_DEBUG_FAULT > NUB_FN_ID_MAX, "debug ids do not collide");

#define NUB_DEBUG_FAULT_NULL_READ      0u /* #PF on the unmapped page 0 */
#define NUB_DEBUG_FAULT_INVALID_OPCODE 1u /* ud2: #UD */
#define NUB_DEBUG_FAULT_STACK_OVERFLOW 2u /* runs into the stack guard page: #PF on IST */
#define NUB_DEBUG_FAULT_DIVIDE         3u /* div by zero: #DE */
#define NUB_DEBUG_FAULT_NONCANONICAL   4u /* non-canonical address: #GP */

/* ---- I/O ports the guest uses ------------------------------------------ */
#define NUB_PORT_COM1     0x3F8 /* serial console: THR, one byte per out */
#define NUB_PORT_DOORBELL 0x500 /* u32 out: a reply (or "ready") is in the response buffer */
#define NUB_PORT_CRASH    0x501 /* u32 out: a crash report is at NUB_CRASH_REPORT_GPA */
/* u32 out from the ring-3 JIT code of a run: a host call waits in the run's
 * context block (struct nub_host_call_record names it). */
#define NUB_PORT_HOST_CALL 0x508

/* ---- Fixed guest-physical addresses ------------------------------------ */
#define NUB_BOOT_PARAMS_GPA  UINT64_C(0x1000)
#define NUB_CRASH_REPORT_GPA UINT64_C(0x1800)
#define NUB_KERNEL_LOAD_MIN  UINT64_C(0x100000) /* PT_LOAD segments live at or above this */
#define NUB_PAGE_SIZE        UINT64_C(4096)

/* ---- Boot parameters (host -> guest, read once at boot) --------------- */
#define NUB_BOOT_PARAMS_MAGIC   UINT64_C(0x314D524150425554) /* "TUBPARM1" LE */
#define NUB_BOOT_PARAMS_VERSION 1u
#define NUB_BOOT_FLAG_CONSOLE   1u /* the host listens on COM1: print a boot banner */
#define NUB_BOOT_FLAG_DEBUG_FNS 2u /* dispatch the NUB_FN_ID_DEBUG_* functions */

struct nub_boot_params {
    uint64_t magic;               /* NUB_BOOT_PARAMS_MAGIC */
    uint32_t version;             /* NUB_BOOT_PARAMS_VERSION */
    uint32_t flags;               /* NUB_BOOT_FLAG_* */
    uint64_t memory_bytes;        /* guest-physical memory size (identity-mapped) */
    uint64_t request_gpa;         /* page-aligned request buffer */
    uint64_t request_bytes;       /* its size, header included */
    uint64_t response_gpa;        /* page-aligned response buffer */
    uint64_t response_bytes;      /* its size, header included */
    uint64_t heap_gpa;            /* page-aligned start of the heap */
    uint64_t heap_bytes;          /* heap size */
    uint64_t directory_max_caps;  /* 0: the kernel's default (docs/protocol.md) */
    uint64_t directory_max_bytes; /* 0: the kernel's default */
    uint64_t kernel_cr3;          /* the kernel's PML4 (host-built; user-readable) */
    uint64_t reserved[4];         /* zero */
};
_Static_assert(sizeof(struct nub_boot_params) == 128, "nub_boot_params size");
_Static_assert(offsetof(struct nub_boot_params, memory_bytes) == 16, "memory_bytes");
_Static_assert(offsetof(struct nub_boot_params, heap_bytes) == 64, "heap_bytes");

/* ---- Request / response headers (16 bytes each, payload follows) ------ */
struct nub_rpc_request_header {
    uint32_t fn_id;       /* index into the guest's dispatch table */
    uint32_t payload_len; /* bytes of payload after the header */
    uint64_t sequence;    /* echoed in the reply: stale replies are detected */
};
_Static_assert(sizeof(struct nub_rpc_request_header) == 16, "request header size");
_Static_assert(offsetof(struct nub_rpc_request_header, payload_len) == 4, "payload_len");
_Static_assert(offsetof(struct nub_rpc_request_header, sequence) == 8, "sequence");

struct nub_rpc_response_header {
    uint32_t status;      /* a nub_status; NUB_OK means the payload is the reply */
    uint32_t payload_len; /* bytes of payload after the header */
    uint64_t sequence;    /* the request's sequence; 0 for the boot "ready" doorbell */
};
_Static_assert(sizeof(struct nub_rpc_response_header) == 16, "response header size");
_Static_assert(offsetof(struct nub_rpc_response_header, payload_len) == 4, "payload_len");
_Static_assert(offsetof(struct nub_rpc_response_header, sequence) == 8, "sequence");

/* ---- INVOKE_CACHED records (docs/protocol.md §4) ------------------------ */
/*
 * Request: struct nub_invoke_packet, then optionally struct
 * nub_invoke_io_header, readback_count x struct nub_readback_range and
 * input_len input bytes (exactly: any other length is NUB_ERR_READBACK_LIST).
 * Reply: the wire InvocationResult (NUB_WIRE_RESULT_BYTES), then per range a
 * struct nub_readback_reply and its length bytes, then, with
 * NUB_INVOKE_IO_OUTPUT, a struct nub_output_reply and (status 0) its bytes.
 */
#define NUB_INVOKE_IO_HOST_CALLS 1u /* serve ecalli through NUB_PORT_HOST_CALL */
#define NUB_INVOKE_IO_INPUT      2u /* the input bytes fill the argument area */
#define NUB_INVOKE_IO_OUTPUT     4u /* reply the halted run's [phi7, phi7 + phi8) */
#define NUB_INVOKE_IO_FLAGS      7u
#define NUB_RPC_MAX_READBACKS    64u
#define NUB_RPC_MAX_INPUT        0x1000000u /* SPEC §11 ZI */

struct nub_invoke_io_header {
    uint32_t flags;          /* NUB_INVOKE_IO_*; others: NUB_ERR_BAD_PACKET */
    uint32_t readback_count; /* <= NUB_RPC_MAX_READBACKS */
    uint32_t input_len;      /* NUB_INVOKE_IO_INPUT: <= NUB_RPC_MAX_INPUT, else 0 */
    uint32_t output_cap;     /* NUB_INVOKE_IO_OUTPUT: most output bytes the host takes */
};
_Static_assert(sizeof(struct nub_invoke_io_header) == 16, "nub_invoke_io_header size");
_Static_assert(offsetof(struct nub_invoke_io_header, readback_count) == 4, "readback_count");
_Static_assert(offsetof(struct nub_invoke_io_header, input_len) == 8, "input_len");
_Static_assert(offsetof(struct nub_invoke_io_header, output_cap) == 12, "output_cap");

struct nub_readback_range {
    uint32_t address; /* PVM address (wraps at 2^32) */
    uint32_t length;
};
_Static_assert(sizeof(struct nub_readback_range) == 8, "nub_readback_range size");
_Static_assert(offsetof(struct nub_readback_range, length) == 4, "length");

struct nub_readback_reply {
    uint32_t ok;     /* 1, or 0 when some byte is inaccessible (then the bytes are zero) */
    uint32_t length; /* = the range's length; that many bytes follow */
};
_Static_assert(sizeof(struct nub_readback_reply) == 8, "nub_readback_reply size");
_Static_assert(offsetof(struct nub_readback_reply, length) == 4, "length");

struct nub_output_reply {
    /* 0: length bytes follow; NUB_ERR_OUTPUT_TOO_LARGE (length > output_cap)
     * or NUB_ERR_MEMORY_INACCESSIBLE: none follow. Only for a halt. */
    uint32_t status;
    uint32_t length; /* phi8 at the halt (UINT32_MAX when larger) */
};
_Static_assert(sizeof(struct nub_output_reply) == 8, "nub_output_reply size");
_Static_assert(offsetof(struct nub_output_reply, length) == 4, "length");

/*
 * Written by the guest at the start of the response buffer before a run with
 * NUB_INVOKE_IO_HOST_CALLS: where the host finds the run on a host call. The
 * host trusts none of it: ctx_gpa (the run's struct jit_ctx, guest/pvm/jit.h)
 * must lie inside guest RAM, and cr3_gpa is walked with checks
 * (host/pvm_guest_mem.h). The JIT code does `out NUB_PORT_HOST_CALL` with
 * ctx.reason = PVM_EXIT_HOST_CALL, ctx.arg = id, ctx.pc, registers and gas
 * stored; the host writes registers, gas and reason (JIT_EXIT_HOST_RESUME
 * or the exit that ends the run) back and resumes the vCPU after the `out`.
 */
#define NUB_HOST_CALL_MAGIC UINT64_C(0x4C4C4143544F4853) /* "SHOTCALL" LE */

struct nub_host_call_record {
    uint64_t magic; /* NUB_HOST_CALL_MAGIC */
    uint64_t ctx_gpa;
    uint64_t cr3_gpa;
    /* The run's initial break (the INSTANCE's heap_top; 0: no heap). sbrk
     * runs inside the run, so pages in [heap_base, ctx.heap_top) are
     * read-write whatever the tables declare at a host call. */
    uint64_t heap_base;
    /* NUB_ISA_* of the run's IMAGE: which host calls the library serves
     * itself (GP 0.8.0's grow_heap). A value >= NUB_ISA_COUNT is a lie. */
    uint32_t isa;
    uint32_t reserved; /* 0 */
};
_Static_assert(sizeof(struct nub_host_call_record) == 40, "nub_host_call_record size");
_Static_assert(offsetof(struct nub_host_call_record, ctx_gpa) == 8, "ctx_gpa");
_Static_assert(offsetof(struct nub_host_call_record, cr3_gpa) == 16, "cr3_gpa");
_Static_assert(offsetof(struct nub_host_call_record, heap_base) == 24, "heap_base");
_Static_assert(offsetof(struct nub_host_call_record, isa) == 32, "isa");
_Static_assert(offsetof(struct nub_host_call_record, reserved) == 36, "reserved");

/* ---- Crash report (guest -> host on NUB_PORT_CRASH) -------------------- */
#define NUB_CRASH_MAGIC UINT64_C(0x4853415243425554) /* "TUBCRASH" LE */

struct nub_crash_report {
    uint64_t magic;      /* NUB_CRASH_MAGIC */
    uint64_t vector;     /* exception vector 0..31 */
    uint64_t error_code; /* the CPU's error code, 0 for vectors without one */
    uint64_t rip;        /* faulting instruction */
    uint64_t cs;         /* code segment at the fault (ring in the low 2 bits) */
    uint64_t rflags;
    uint64_t rsp; /* stack pointer at the fault */
    uint64_t cr2; /* faulting address for #PF */
};
_Static_assert(sizeof(struct nub_crash_report) == 64, "nub_crash_report size");
_Static_assert(offsetof(struct nub_crash_report, rip) == 24, "rip");
_Static_assert(offsetof(struct nub_crash_report, cr2) == 56, "cr2");

/* ---- Kernel layout (the guest's .nub_layout ELF section) --------------- */
/*
 * Facts the host needs to build the guest's whole CPU environment before
 * the first instruction (GDT, TSS, IDT over the exception stubs, page tables
 * with guard pages): the guest starts in ring 3 at the ELF entry and never
 * runs ring-0 set-up code (ring 0 may be emulated, see docs/protocol.md).
 * Stub i is at vector_stubs_va + i * vector_stub_stride. The guard pages
 * stay unmapped; (guard, top) of the IST and trap stacks is supervisor-only.
 */
#define NUB_LAYOUT_MAGIC      UINT64_C(0x54554F59414C4255) /* "UBLAYOUT" LE */
#define NUB_VECTOR_COUNT      32u                          /* CPU exception vectors */
#define NUB_VECTOR_JIT_EXIT   32u /* `int 32`: the JIT code's exit trap (DPL 3) */
#define NUB_KERNEL_VECTORS    33u /* IDT gates: the exceptions and the JIT exit */
#define NUB_LAYOUT_SECTION    ".nub_layout"
#define NUB_BOOT_INFO_SECTION ".boot_info"

struct nub_kernel_layout {
    uint64_t magic;              /* NUB_LAYOUT_MAGIC */
    uint64_t vector_stubs_va;    /* stub of vector 0 */
    uint32_t vector_stub_stride; /* bytes between stubs */
    uint32_t vector_count;       /* NUB_KERNEL_VECTORS */
    uint64_t stack_guard_va;     /* page below the ring-3 service stack */
    uint64_t ist_guard_va;       /* page below the IST stack (#DF, NMI, #PF, #MC) */
    uint64_t ist_top;
    uint64_t trap_guard_va; /* page below the stack of traps from ring 3 (TSS rsp0) */
    uint64_t trap_top;
};
_Static_assert(sizeof(struct nub_kernel_layout) == 64, "nub_kernel_layout size");

/* Segment selectors of the GDT the host builds (user ones with RPL 3). */
#define NUB_SEL_KERNEL_CODE 0x08
#define NUB_SEL_KERNEL_DATA 0x10
#define NUB_SEL_USER_DATA   (0x18 | 3)
#define NUB_SEL_USER_CODE   (0x20 | 3)
#define NUB_SEL_TSS         0x28

/* The ring-3 I/O ports (TSS I/O bitmap): COM1 data and the three RPC ports,
 * whose 4-byte writes span 4 port numbers each. */
#define NUB_IO_BITMAP_PORTS (NUB_PORT_HOST_CALL + 4)

/* ---- The address space of a PVM run (read by the host too) ------------- */
/*
 * A run's x86-64 page tables (CR3 of the stopped vCPU, or the CR3 a reply
 * names) map PVM address a at NUB_RUN_WINDOW_VA + a, user-accessible, R or
 * RW, never executable. The host reads and writes PVM memory of a stopped
 * run by walking those tables in guest RAM (host/pvm_guest_mem.h); every
 * entry is untrusted there: table and page frames must lie inside guest RAM.
 */
#define NUB_RUN_CODE_VA   UINT64_C(0x0000008000000000) /* PML4 slot 1: code and context */
#define NUB_RUN_WINDOW_VA UINT64_C(0x0000010000000000) /* PML4 slot 2: PVM address 0 */
#define NUB_PTE_P         (UINT64_C(1) << 0)
#define NUB_PTE_RW        (UINT64_C(1) << 1)
#define NUB_PTE_US        (UINT64_C(1) << 2)
#define NUB_PTE_D         (UINT64_C(1) << 6) /* a leaf's page was written (see below) */
#define NUB_PTE_PS        (UINT64_C(1) << 7) /* a large page: never used in a run's window */
#define NUB_PTE_NX        (UINT64_C(1) << 63)
#define NUB_PTE_ADDR_MASK UINT64_C(0x000FFFFFFFFFF000)
_Static_assert((NUB_RUN_WINDOW_VA >> 39) == 2 &&
                   (NUB_RUN_WINDOW_VA & ((UINT64_C(1) << 39) - 1)) == 0,
               "the window is PML4 slot 2, which covers 2^39 bytes (4 GiB + guard fit)");

/* ---- Demand paging: declared access, the page pool, the undo log ------- */
/*
 * Pages of a run are backed on first touch. Bits 9-10 of every entry of the
 * window's tables (ignored by the CPU, present or not) hold the access
 * declared for all the entry covers: NUB_DECL_INHERIT = what the entry above
 * says (the walk starts at NONE below the PML4). A non-present entry whose
 * declared access is READ or WRITE is backed on first touch: by the kernel's
 * #PF handler during the run, or by the host writing for a host function
 * while the run is stopped (host/pvm_guest_mem.c). Backing a table entry
 * installs a zeroed table (its entries inherit); backing a leaf installs a
 * zeroed page, user, NX, RW if declared WRITE.
 */
#define NUB_PTE_DECL_SHIFT 9
#define NUB_PTE_DECL_MASK  (UINT64_C(3) << NUB_PTE_DECL_SHIFT)
#define NUB_DECL_INHERIT   0u
#define NUB_DECL_NONE      1u
#define NUB_DECL_READ      2u
#define NUB_DECL_WRITE     3u

/*
 * Whole pages for runs (tables and PVM pages) come from one pool, whose
 * record sits at NUB_PAGE_POOL_GPA (inside the boot-parameter page): a stack
 * of free zero-filled pages (u32 frame numbers, gpa >> 12) and an undo log.
 * Everything that backs a page during a call pops a frame from the stack
 * and appends {entry, old value} to the log before writing the entry; at
 * the end of the call the kernel restores the log backwards and pushes the
 * pages back (zeroed), so a kept address space returns to its built state
 * (but for the tables and the zeroed leaf pages it keeps: the marks
 * below).
 * The host treats every field as untrusted: the stack, the log and every
 * frame must lie inside guest RAM, and a count past its capacity is refused.
 */
#define NUB_PAGE_POOL_GPA   UINT64_C(0x1C00)
#define NUB_PAGE_POOL_MAGIC UINT64_C(0x314C4F4F50425554) /* "TUBPOOL1" LE */

struct nub_page_pool {
    uint64_t magic;          /* NUB_PAGE_POOL_MAGIC once the kernel set it up */
    uint64_t stack_gpa;      /* u32[stack_capacity]: frame numbers of free zeroed pages */
    uint32_t stack_count;    /* entries [0, stack_count) are free */
    uint32_t stack_capacity; /* entries the stack can hold */
    uint64_t log_gpa;        /* struct nub_page_log_entry[log_capacity] */
    uint32_t log_count;      /* entries [0, log_count) were written during this call */
    uint32_t log_capacity;   /* entries the log can hold */
    uint64_t reserved[3];    /* zero */
};
_Static_assert(sizeof(struct nub_page_pool) == 64, "nub_page_pool size");
_Static_assert(offsetof(struct nub_page_pool, stack_count) == 16, "stack_count");
_Static_assert(offsetof(struct nub_page_pool, log_gpa) == 24, "log_gpa");
_Static_assert(offsetof(struct nub_page_pool, log_count) == 32, "log_count");
_Static_assert(NUB_PAGE_POOL_GPA + sizeof(struct nub_page_pool) <= NUB_CRASH_REPORT_GPA + 0x800 &&
                   NUB_PAGE_POOL_GPA >= NUB_CRASH_REPORT_GPA + sizeof(struct nub_crash_report),
               "the pool record shares the boot-parameter page with the crash report");

struct nub_page_log_entry {
    uint64_t entry_gpa; /* a page-table entry (8-aligned) changed during the call */
    uint64_t old_value; /* its value before the change (| NUB_PAGE_LOG_KEEP or _RESET) */
};
/* In old_value: the change installed a table the kernel keeps after the
 * call (it becomes part of the address space; its entries are restored by
 * their own log entries). Bit 62 is never part of a non-present entry's
 * encoding. Writers that do not set it get every change undone. */
#define NUB_PAGE_LOG_KEEP (UINT64_C(1) << 62)
/* In old_value: the change backed a leaf page under the access its segment
 * declared (not sbrk's break). The kernel may keep such a page backed after
 * the call, reset to zeros, so that the next call touching it does not take
 * a first-touch fault again (uspace.h bounds how many). Bit 61 is never
 * part of a non-present entry's encoding either. */
#define NUB_PAGE_LOG_RESET (UINT64_C(1) << 61)
/* Such a kept page is zeroed after a call only if its leaf's dirty bit
 * (NUB_PTE_D) is set. The CPU sets it when the program writes; whoever else
 * writes into a backed page of a run (the host, for a host function) sets it
 * too, or the next call would see the bytes. */
_Static_assert(sizeof(struct nub_page_log_entry) == 16, "nub_page_log_entry size");

/* The directory layout version in nub_boot_info.directory_type_id. */
#define NUB_DIRECTORY_TYPE_ID 1u

#endif /* NUB_RPC_H */
