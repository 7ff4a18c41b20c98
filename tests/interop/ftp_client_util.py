"""Peers and helpers for the `sockit ftp` client tests: vsftpd started in the
foreground on loopback ports from a config the test writes (plain, explicit
FTPS with require_ssl_reuse, implicit FTPS), a system user for vsftpd's
local logins, and a runner for `sockit ftp`."""

import os
import pwd
import random
import signal
import subprocess
import uuid

from get_util import Result, free_port, make_ca, port_open
from interop_util import wait_until

RUN_TIMEOUT = 90


def ftp(*args, input=None, cwd=None, env=None, timeout=RUN_TIMEOUT):
    """Runs `sockit ftp ARGS` (stdin from `input`, else nothing) -> Result."""
    argv = [os.environ["SOCKIT_BIN"], "ftp", *args]
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(argv, input=input if input is not None else b"", stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=cwd, env=full_env, timeout=timeout)
    return Result(argv, proc)


def one_line_error(result):
    """The stderr of a failed run: exactly one line, starting 'sockit: '."""
    lines = result.err().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sockit: "), result
    return lines[0]


class Vsftpd:
    """vsftpd in the foreground (background=NO) on a free 127.0.0.1 port.

    `anon_root` is made root-owned and 0755 (the ftp user cannot write it, as
    vsftpd requires); `upload` (if given) is a subfolder owned by the ftp
    user where anonymous may upload and make folders. `tls` is None,
    "explicit" (AUTH TLS required of everyone, data too, session reuse
    required) or "implicit" (TLS from the first byte). Everything, the log
    included, stays in `directory`."""

    def __init__(self, directory, anon_root, upload=None, tls=None, local=True):
        self.dir = directory
        self.port = free_port()
        self.log = os.path.join(directory, "vsftpd.log")
        empty = os.path.join(directory, "empty")
        os.makedirs(empty, exist_ok=True)
        os.chmod(anon_root, 0o755)
        os.chown(anon_root, 0, 0)
        if upload:
            os.makedirs(upload, exist_ok=True)
            os.chown(upload, pwd.getpwnam("ftp").pw_uid, -1)  # the user vsftpd's package makes
            os.chmod(upload, 0o755)
        base = random.randrange(41000, 59000)
        lines = [
            "listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", f"listen_port={self.port}",
            "background=NO", "seccomp_sandbox=NO",
            "anonymous_enable=YES", "no_anon_password=YES", f"anon_root={anon_root}",
            f"local_enable={'YES' if local else 'NO'}", "write_enable=YES", "local_umask=022",
            "anon_upload_enable=YES", "anon_mkdir_write_enable=YES", "anon_other_write_enable=YES",
            "anon_umask=022",
            "pasv_enable=YES", f"pasv_min_port={base}", f"pasv_max_port={base + 60}",
            "port_enable=YES", "connect_from_port_20=NO",
            f"secure_chroot_dir={empty}",
            "xferlog_enable=NO", f"vsftpd_log_file={self.log}", "dual_log_enable=YES",
            "log_ftp_protocol=YES",
        ]
        self.ca = None
        if tls:
            self.ca, crt, key = make_ca(directory, names=("localhost",), ips=("127.0.0.1",))
            lines += [
                "ssl_enable=YES", "allow_anon_ssl=YES", f"rsa_cert_file={crt}", f"rsa_private_key_file={key}",
                "force_anon_logins_ssl=YES", "force_anon_data_ssl=YES",
                "force_local_logins_ssl=YES", "force_local_data_ssl=YES",
                # The default, said out loud: a data connection must resume
                # the control connection's TLS session.
                "require_ssl_reuse=YES",
            ]
            if tls == "implicit":
                lines.append("implicit_ssl=YES")
        conf = os.path.join(directory, "vsftpd.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen(["vsftpd", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not wait_until(lambda: self.proc.poll() is not None or port_open(self.port), 20) or \
                self.proc.poll() is not None:
            out = self.stop()
            raise AssertionError(f"vsftpd did not start: {out}")

    def url(self, path="/", user=None, scheme="ftp"):
        who = f"{user}@" if user else ""
        return f"{scheme}://{who}127.0.0.1:{self.port}{path}"

    def protocol_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out, err = self.proc.communicate()
        return (out + err).decode(errors="replace")


class SystemUser:
    """A throw-away system user (for vsftpd's local logins: PAM checks the
    password and the shell), home in `home`; removed by remove()."""

    def __init__(self, home):
        self.name = "sockitftp" + uuid.uuid4().hex[:8]
        self.password = "pw-" + uuid.uuid4().hex[:12]
        self.home = home
        os.makedirs(home, exist_ok=True)
        subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/sh", self.name], check=True, timeout=30)
        subprocess.run(["chpasswd"], input=f"{self.name}:{self.password}\n".encode(), check=True, timeout=30)
        entry = pwd.getpwnam(self.name)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        os.chmod(home, 0o755)

    def remove(self):
        subprocess.run(["userdel", self.name], timeout=30)
