"""Run inside a sandbox (as a script): every attack of the isolation issue, and what came of each.

Input: facts.json (beside this script; never argv, which /proc would show) with the server's data directory, port and pid, the keys to look for, a host path of
another tenant's sandbox file, a host file anyone may read, and a token for the /dev/shm file. Prints
JSON: attack name -> true when the attack *succeeded*.
"""

import ctypes
import json
import os
import signal
import socket

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "facts.json")) as source:
    facts = json.load(source)
done = {}


def attempt(name, action):
    try:
        done[name] = bool(action())
    except Exception:
        done[name] = False


def read(path):
    with open(path, "rb") as f:
        return f.read(64)


attempt("read_server_database", lambda: read(os.path.join(facts["data_dir"], "local.sqlite3")))
attempt("list_data_directory", lambda: os.listdir(facts["data_dir"]) is not None)
attempt("read_other_tenants_sandbox", lambda: read(facts["victim_file"]))
attempt("read_host_file", lambda: read(facts["host_file"]))
attempt("write_data_directory", lambda: open(os.path.join(facts["data_dir"], "pwned"), "w").write("x"))


def scan_keys():
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            try:
                data = read_all(f"/proc/{pid}/{part}")
            except OSError:
                continue
            if any(key.encode() in data for key in facts["keys"]):
                return True
    return False


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


attempt("read_api_keys", scan_keys)


def loopback():
    with socket.create_connection(("127.0.0.1", facts["port"]), timeout=3) as conn:
        conn.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        return conn.recv(100).startswith(b"HTTP/")


attempt("reach_server_on_loopback", loopback)
attempt("signal_server", lambda: os.kill(facts["server_pid"], signal.SIGCONT) is None)

libc = ctypes.CDLL(None, use_errno=True)
attempt("new_user_namespace", lambda: libc.unshare(0x10000000) == 0)
attempt("new_mount_namespace", lambda: libc.unshare(0x00020000) == 0)
os.makedirs("/tmp/mnt-attack", exist_ok=True) if os.access("/tmp", os.W_OK) else None
attempt("mount", lambda: libc.mount(b"none", b"/tmp/mnt-attack", b"tmpfs", 0, None) == 0)
attempt("io_uring", lambda: libc.syscall(425, 4, ctypes.create_string_buffer(120)) >= 0)
attempt("bpf", lambda: libc.syscall(321, 0, None, 0) >= 0 or ctypes.get_errno() not in (1, 38))
attempt("write_dev_shm", lambda: open("/dev/shm/" + facts["token"], "w").write("x"))
attempt("see_host_processes", lambda: len([p for p in os.listdir("/proc") if p.isdigit()]) > 40)
try:
    done["network_interfaces"] = [name for _index, name in socket.if_nameindex()]
except OSError:
    done["network_interfaces"] = None
done["home_is_home_user"] = os.getcwd() == "/home/user" and os.environ.get("HOME") == "/home/user"
print(json.dumps(done))
