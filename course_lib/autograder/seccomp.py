"""The system calls a graded notebook may not make: a seccomp filter for bubblewrap.

A notebook trains networks, reads and writes files, starts threads: it never mounts file
systems, opens files by handle, traces other processes, loads kernel modules or BPF
programs, touches the kernel's key rings, or makes namespaces of its own. Those calls are
the usual first steps out of a container (``open_by_handle_at`` through a bound folder is
the classic one), so the sandbox refuses them with "Operation not permitted" whatever
rights the grading account has.

The filter is a classic BPF program, written here rather than through libseccomp so that
nothing beyond Python is needed; bubblewrap installs it (``--seccomp FD``) just before it
starts the program. ``clone3`` answers "not implemented" instead, which makes the C
library fall back to ``clone`` (whose namespace flags need rights the sandbox does not
have, and bubblewrap's ``--disable-userns`` takes away new user namespaces).
"""

from __future__ import annotations

import errno
import platform
import struct

# The refused calls, by their number on each processor (from the kernel's unistd headers;
# tests/autograder/test_seccomp.py compares them with the headers where installed).
REFUSED = (
    "open_by_handle_at", "name_to_handle_at", "mount", "umount2", "pivot_root", "chroot",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "bpf", "perf_event_open",
    "userfaultfd", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "setns", "unshare", "swapon", "swapoff",
    "reboot", "acct", "quotactl", "quotactl_fd", "syslog", "lookup_dcookie",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
)
NOT_IMPLEMENTED = ("clone3",)

SYSCALLS = {
    "x86_64": {
        "open_by_handle_at": 304, "name_to_handle_at": 303, "mount": 165, "umount2": 166,
        "pivot_root": 155, "chroot": 161, "move_mount": 429, "open_tree": 428, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "ptrace": 101,
        "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "bpf": 321,
        "perf_event_open": 298, "userfaultfd": 323, "keyctl": 250, "add_key": 248,
        "request_key": 249, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
        "finit_module": 313, "delete_module": 176, "setns": 308, "unshare": 272,
        "swapon": 167, "swapoff": 168, "reboot": 169, "acct": 163, "quotactl": 179,
        "quotactl_fd": 443, "syslog": 103, "lookup_dcookie": 212, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "clone3": 435,
        # x86_64 only: port access.
        "iopl": 172, "ioperm": 173,
    },
    "aarch64": {
        "open_by_handle_at": 265, "name_to_handle_at": 264, "mount": 40, "umount2": 39,
        "pivot_root": 41, "chroot": 51, "move_mount": 429, "open_tree": 428, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272, "bpf": 280,
        "perf_event_open": 241, "userfaultfd": 282, "keyctl": 219, "add_key": 217,
        "request_key": 218, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105,
        "finit_module": 273, "delete_module": 106, "setns": 268, "unshare": 97,
        "swapon": 224, "swapoff": 225, "reboot": 142, "acct": 89, "quotactl": 60,
        "quotactl_fd": 443, "syslog": 116, "lookup_dcookie": 18, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "clone3": 435,
    },
}
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000  # x86_64's x32 interface: a second set of numbers, refused

# Classic BPF, as in <linux/filter.h> and <linux/seccomp.h>.
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_NR_OFFSET, _ARCH_OFFSET = 0, 4  # in struct seccomp_data


def machine() -> str:
    """This processor's name as the filter knows it ("x86_64", "aarch64")."""
    name = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(name, name)


def supported() -> bool:
    """Whether a filter can be made for this processor."""
    return machine() in SYSCALLS


def filter_program(arch: str | None = None) -> bytes:
    """The BPF program, as the bytes bubblewrap reads from ``--seccomp FD``.

    Calls made through another interface than the processor's own (32-bit calls on a
    64-bit machine, x86_64's x32 numbers) are refused as a whole: a notebook never
    makes them, and their numbers differ.
    """
    arch = arch or machine()
    numbers = SYSCALLS.get(arch)
    if numbers is None:
        raise ValueError(f"no seccomp filter for the processor {arch!r}; known: "
                         f"{', '.join(SYSCALLS)}")
    refused = sorted({numbers[name] for name in (*REFUSED, "iopl", "ioperm") if name in numbers})
    missing = sorted({numbers[name] for name in NOT_IMPLEMENTED})
    deny = _RET_ERRNO | errno.EPERM
    nosys = _RET_ERRNO | errno.ENOSYS
    # Layout: [check arch] [load nr] [x32 check] [one jump per number] ALLOW EPERM ENOSYS.
    body: list[tuple[int, int, int, int]] = []
    checks = 3 + (1 if arch == "x86_64" else 0) + len(refused) + len(missing)
    # The three returns follow the checks; a jump counts from the instruction after it.
    allow_at, deny_at, nosys_at = checks, checks + 1, checks + 2

    def jump_to(target: int, position: int) -> int:
        return target - position - 1

    body.append((_LD_W_ABS, 0, 0, _ARCH_OFFSET))
    body.append((_JEQ_K, 0, jump_to(deny_at, 1), AUDIT_ARCH[arch]))
    body.append((_LD_W_ABS, 0, 0, _NR_OFFSET))
    if arch == "x86_64":
        body.append((_JGE_K, jump_to(deny_at, len(body)), 0, X32_SYSCALL_BIT))
    for number in refused:
        body.append((_JEQ_K, jump_to(deny_at, len(body)), 0, number))
    for number in missing:
        body.append((_JEQ_K, jump_to(nosys_at, len(body)), 0, number))
    assert len(body) == allow_at
    body.append((_RET_K, 0, 0, _RET_ALLOW))
    body.append((_RET_K, 0, 0, deny))
    body.append((_RET_K, 0, 0, nosys))
    return b"".join(struct.pack("=HBBI", code, jt, jf, k) for code, jt, jf, k in body)
