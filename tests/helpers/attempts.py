"""What a hostile notebook cell tries against its sandbox: shared by the sandbox's own test
and the grading of a hostile class through nbgrader."""

# One line of JSON per attempt: [what, result].
ATTEMPTS = r'''
import ctypes, errno, json, os, struct
libc = ctypes.CDLL(None, use_errno=True)
def said(name, result):
    print(json.dumps([name, result]), flush=True)
def call(name, number, *args):
    ctypes.set_errno(0)
    value = libc.syscall(number, *args)
    said(name, "ok" if value >= 0 else errno.errorcode.get(ctypes.get_errno(), "?"))
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines()
              if ":\t" in line)
said("CapEff", status["CapEff"].strip())
said("CapBnd", status["CapBnd"].strip())
said("uid", os.getuid())
# The classic escape: a handle to inode 2 (the root folder of the file system that /usr is
# on), opened through the bound /usr. Needs CAP_DAC_READ_SEARCH; refused by the filter too.
X86 = os.uname().machine == "x86_64"
NAME_TO_HANDLE, OPEN_BY_HANDLE = (303, 304) if X86 else (264, 265)
handle = ctypes.create_string_buffer(struct.pack("=Ii", 8, 1) + struct.pack("=Q", 2))
mount_id = ctypes.c_int()
usr = os.open("/usr", os.O_RDONLY)
call("name_to_handle_at", NAME_TO_HANDLE, usr, b"/usr", handle, ctypes.byref(mount_id), 0)
handle = ctypes.create_string_buffer(struct.pack("=Ii", 8, 1) + struct.pack("=Q", 2))
ctypes.set_errno(0)
opened = libc.syscall(OPEN_BY_HANDLE, usr, handle, os.O_RDONLY | os.O_DIRECTORY)
if opened >= 0:
    said("open_by_handle_at", "ESCAPED: " + " ".join(sorted(os.listdir(opened))[:20]))
else:
    said("open_by_handle_at", errno.errorcode.get(ctypes.get_errno(), "?"))
call("unshare", 272 if X86 else 97, 0)
call("keyctl", 250 if X86 else 219, 0, -4, 0)  # KEYCTL_GET_KEYRING_ID of the user keyring
call("ptrace", 101 if X86 else 117, 0, 0, 0, 0)  # PTRACE_TRACEME
call("mount", 165 if X86 else 40, b"none", b"/tmp", b"tmpfs", 0, 0)
def fill(path, megabytes):
    try:
        with open(path, "wb") as handle:
            for _ in range(megabytes):
                handle.write(b"x" * 1024 * 1024)
        said("fill " + path, "FILLED")
    except OSError as error:
        said("fill " + path, errno.errorcode.get(error.errno, "?"))
fill("/dev/hog", 1)
fill("/dev/shm/hog", 200)
fill("/run/kernel/hog", 50)
'''


def attempts_said(text: str) -> dict[str, object]:
    """The results printed by :data:`ATTEMPTS`, from a cell's printed text."""
    import json

    found = {}
    for line in text.splitlines():
        if line.startswith('["'):
            name, result = json.loads(line)
            found[name] = result
    return found


REFUSED_BY_THE_FILTER = ("name_to_handle_at", "unshare", "keyctl", "ptrace", "mount")


def assert_the_box_held(said: dict[str, object]) -> None:
    """What :data:`ATTEMPTS` must find in any sandbox: no capability, no escape, the calls
    a notebook never makes refused (each succeeds for an ordinary process without the
    filter), ``/dev`` read-only and the memory-backed folders capped (by their size, or
    sooner by the file-size limit)."""
    assert said["CapEff"] == "0000000000000000", said["CapEff"]
    assert said["CapBnd"] == "0000000000000000", said["CapBnd"]
    assert said["open_by_handle_at"] == "EPERM", said["open_by_handle_at"]
    for name in REFUSED_BY_THE_FILTER:
        assert said[name] == "EPERM", (name, said[name])
    assert said["fill /dev/hog"] == "EROFS", said["fill /dev/hog"]
    for folder in ("/dev/shm", "/run/kernel"):
        assert said[f"fill {folder}/hog"] in ("ENOSPC", "EFBIG"), (folder, said)
