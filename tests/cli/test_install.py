"""`make install` / `make uninstall` into a DESTDIR (issue 15): the binary, chatvault(1), the
systemd units (sandboxed, with the paths of PREFIX) and the env file, with their modes; an
existing env file is never replaced; the installed binary runs; the units pass
`systemd-analyze verify` when it is installed; uninstall removes what install put there.

The tests install the binary already built (NOBUILD=1: make builds nothing): build/chatvault,
else the binary under test."""

import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402

TEST_TIMEOUT = 60
TMP = None
UNITS = ["chatvault.service", "chatvault-backup.service", "chatvault-backup.timer"]
SANDBOX = ["DynamicUser=yes", "StateDirectory=chatvault", "ProtectSystem=strict",
           "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "NoNewPrivileges=yes",
           "RestrictAddressFamilies=", "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n",
           "MemoryDenyWriteExecute=yes", "LockPersonality=yes", "RestrictNamespaces=yes"]


def setup_module():
    global TMP
    TMP = tempfile.mkdtemp(prefix="cv-install-")


def teardown_module():
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


def binary():
    rel = os.path.join(cv.ROOT, "build", "chatvault")
    if os.access(rel, os.X_OK):
        return rel
    return cv.find_binary()


def make(*args, check=True):
    p = subprocess.run(["make", "-s", "--no-print-directory"] + list(args) +
                       ["NOBUILD=1", "BIN=%s" % binary()], cwd=cv.ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=50)
    out = p.stdout.decode() + p.stderr.decode()
    if check:
        assert p.returncode == 0, "make %s: exit %d: %s" % (" ".join(args), p.returncode, out[-3000:])
    return out


def install(dest, prefix="/usr/local"):
    return make("install", "DESTDIR=%s" % dest, "PREFIX=%s" % prefix)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def files_under(root):
    out = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


def test_install_puts_every_file_with_its_mode_and_the_binary_runs():
    dest = os.path.join(TMP, "a")
    install(dest)
    want = {
        "usr/local/bin/chatvault": 0o755,
        "usr/local/share/man/man1/chatvault.1.gz": 0o644,
        "usr/local/lib/systemd/system/chatvault.service": 0o644,
        "usr/local/lib/systemd/system/chatvault-backup.service": 0o644,
        "usr/local/lib/systemd/system/chatvault-backup.timer": 0o644,
        "usr/local/etc/chatvault/chatvault.env": 0o644,
    }
    assert files_under(dest) == set(want), sorted(files_under(dest))
    for rel, m in want.items():
        assert mode(os.path.join(dest, rel)) == m, "%s: mode %o, expected %o" % (
            rel, mode(os.path.join(dest, rel)), m)
    p = subprocess.run([os.path.join(dest, "usr/local/bin/chatvault"), "version"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, env=cv.base_env())
    assert p.returncode == 0 and re.match(rb"chatvault \d+\.\d+\.\d+\n", p.stdout), p
    with gzip.open(os.path.join(dest, "usr/local/share/man/man1/chatvault.1.gz"), "rt") as f:
        man = f.read()
    assert ".TH CHATVAULT 1" in man and "CHATVAULT_TRUSTED_PROXY" in man, man[:300]


def test_units_have_the_paths_of_prefix_and_the_sandbox():
    dest = os.path.join(TMP, "b")
    install(dest)
    unitdir = os.path.join(dest, "usr/local/lib/systemd/system")
    with open(os.path.join(unitdir, "chatvault.service")) as f:
        svc = f.read()
    assert "\nExecStart=/usr/local/bin/chatvault serve --db /var/lib/chatvault/chatvault.db\n" in svc, svc
    assert "\nEnvironmentFile=-/usr/local/etc/chatvault/chatvault.env\n" in svc, svc
    for d in SANDBOX:
        assert ("\n" + d) in svc, "chatvault.service lacks %r" % d
    with open(os.path.join(unitdir, "chatvault-backup.service")) as f:
        bak = f.read()
    assert "/usr/local/bin/chatvault backup " in bak and "--db /var/lib/chatvault/chatvault.db" in bak, bak
    assert "\nUser=chatvault\n" in bak and "\nUser=chatvault\n" in svc, "both units must share the user"
    for text in (svc, bak):
        assert "@BINDIR@" not in text and "@SYSCONFDIR@" not in text
    with open(os.path.join(unitdir, "chatvault-backup.timer")) as f:
        assert "OnCalendar=" in f.read()
    with open(os.path.join(dest, "usr/local/etc/chatvault/chatvault.env")) as f:
        env = f.read()
    assert "#CHATVAULT_LISTEN=127.0.0.1:8080" in env, "the env file listens on loopback"
    assert not [ln for ln in env.splitlines() if ln.strip() and not ln.startswith("#")], \
        "every setting of the shipped env file is a comment (the defaults)"


def test_prefix_usr_puts_units_in_lib_systemd_and_the_env_file_in_etc():
    dest = os.path.join(TMP, "c")
    install(dest, prefix="/usr")
    got = files_under(dest)
    assert {"usr/bin/chatvault", "usr/share/man/man1/chatvault.1.gz", "etc/chatvault/chatvault.env",
            "lib/systemd/system/chatvault.service"} <= got, sorted(got)
    with open(os.path.join(dest, "lib/systemd/system/chatvault.service")) as f:
        svc = f.read()
    assert "ExecStart=/usr/bin/chatvault serve" in svc and "EnvironmentFile=-/etc/chatvault/" in svc


def test_an_existing_env_file_is_kept_and_uninstall_removes_the_rest():
    dest = os.path.join(TMP, "d")
    install(dest)
    env = os.path.join(dest, "usr/local/etc/chatvault/chatvault.env")
    with open(env, "a") as f:
        f.write("CHATVAULT_NO_SIGNUP=1\n")
    out = install(dest)
    assert "keeping" in out, out
    with open(env) as f:
        assert f.read().endswith("CHATVAULT_NO_SIGNUP=1\n"), "install replaced a changed env file"
    make("uninstall", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert files_under(dest) == {"usr/local/etc/chatvault/chatvault.env"}, sorted(files_under(dest))
    # unchanged, it goes too
    os.remove(env)
    install(dest)
    make("uninstall", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert files_under(dest) == set(), sorted(files_under(dest))


def test_units_pass_systemd_analyze_verify():
    if not shutil.which("systemd-analyze"):
        raise cv.Skip("systemd-analyze is not installed (apt-get install systemd): units not verified")
    dest = os.path.join(TMP, "e")
    install(dest)
    # verify checks that ExecStart's program and the man page exist: point them into DESTDIR
    check = os.path.join(TMP, "verify")
    os.makedirs(check, exist_ok=True)
    for u in UNITS:
        with open(os.path.join(dest, "usr/local/lib/systemd/system", u)) as f:
            text = f.read().replace("/usr/local/bin/chatvault", os.path.join(dest, "usr/local/bin/chatvault"))
        with open(os.path.join(check, u), "w") as f:
            f.write(text)
    env = dict(os.environ, MANPATH=os.path.join(dest, "usr/local/share/man"), SYSTEMD_LOG_LEVEL="notice")
    p = subprocess.run(["systemd-analyze", "verify"] + UNITS, cwd=check, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=40)
    out = (p.stdout + p.stderr).decode()
    assert p.returncode == 0 and not out.strip(), "systemd-analyze verify: %s" % out
