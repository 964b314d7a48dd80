#!/usr/bin/env python3
"""no-io-uring.py COMMAND [ARGS...]: run COMMAND where io_uring_setup(2)
fails with EPERM, as under Docker's default seccomp profile.

A seccomp filter on this process only (PR_SET_NO_NEW_PRIVS, no root, nothing
changed on the machine), inherited by COMMAND across exec. Exits 77 (skip)
where it cannot be installed: an architecture it does not know, or a kernel
without seccomp filters.
"""
import ctypes
import errno
import os
import platform
import sys

# AUDIT_ARCH_* for seccomp_data.arch; io_uring_setup is 425 on every
# architecture that got the syscall after the 5.1 number unification.
ARCHES = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
NR_IO_URING_SETUP = 425

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_RET_K = 0x06


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: no-io-uring.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    arch = ARCHES.get(platform.machine())
    if arch is None:
        print(f"no-io-uring.py: unknown architecture {platform.machine()}", file=sys.stderr)
        return 77
    program = [
        SockFilter(BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        SockFilter(BPF_JEQ_K, 0, 3, arch),  # another ABI: allow
        SockFilter(BPF_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        SockFilter(BPF_JEQ_K, 0, 1, NR_IO_URING_SETUP),
        SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM),
        SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    ]
    filters = (SockFilter * len(program))(*program)
    fprog = SockFprog(len(program), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p,
                           ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        print(f"no-io-uring.py: seccomp: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        return 77
    os.execvp(sys.argv[1], sys.argv[1:])
    return 1  # not reached: execvp raises on failure


if __name__ == "__main__":
    sys.exit(main())
