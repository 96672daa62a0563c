"""`make deb` (issue 15): the package installs, upgrades, removes and purges cleanly on this
machine, with dpkg itself. Root only (skipped otherwise), and skipped when a chatvault package
is installed already (the test would replace it). It builds two packages of the binary already
built (NOBUILD=1), versions VERSION+cvtest1 and +cvtest2, and always purges in the end.

- install: /usr/bin/chatvault runs, the man page, the units and the conffile are there;
- upgrade (the second .deb over the first): the changed conffile and the data are kept;
- remove (dpkg -r): the binary goes, the conffile and /var/lib/chatvault (the data) stay;
- purge (dpkg -P): nothing of the package is left (every file dpkg -L listed, /etc/chatvault,
  /var/lib/chatvault)."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402

TEST_TIMEOUT = 120      # two packages (gzip) and four dpkg runs: ~15 s on 2 shared cores
SERIAL = True           # dpkg holds its lock: nothing else installs meanwhile


def run(cmd, check=True, timeout=60):
    p = subprocess.run(cmd, cwd=cv.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    if check:
        assert p.returncode == 0, "%s: exit %d: %s" % (" ".join(cmd), p.returncode, out[-3000:])
    return p.returncode, out


def version():
    with open(os.path.join(cv.ROOT, "Makefile")) as f:
        return re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M).group(1)


def build_deb(ver, binary):
    run(["make", "-s", "--no-print-directory", "deb", "NOBUILD=1", "BIN=%s" % binary,
         "DEB_VERSION=%s" % ver, "DEB_COMPRESS=gzip"], timeout=90)
    path = os.path.join(cv.ROOT, "build", "chatvault_%s_%s.deb" % (ver, arch()))
    assert os.path.isfile(path), path
    return path


def arch():
    return run(["dpkg", "--print-architecture"])[1].strip()


def installed_files():
    """The package's files (not directories) per dpkg -L."""
    _, out = run(["dpkg", "-L", "chatvault"])
    return {p for p in out.splitlines() if p.startswith("/") and os.path.isfile(p)}


def status():
    rc, out = run(["dpkg-query", "-W", "-f=${Status} ${Version}", "chatvault"], check=False)
    return out.strip() if rc == 0 else ""


def test_deb_installs_upgrades_removes_and_purges_cleanly():
    if os.geteuid() != 0:
        raise cv.Skip("needs root (dpkg -i); run the tests as root to check the .deb")
    for tool in ("dpkg-deb", "dpkg", "objdump", "strip"):
        if not shutil.which(tool):
            raise cv.Skip("%s is not installed" % tool)
    binary = os.path.join(cv.ROOT, "build", "chatvault")
    if not os.access(binary, os.X_OK):
        raise cv.Skip("build/chatvault (the release binary) is not built: make")
    if status().startswith("install ok"):
        raise cv.Skip("a chatvault package is installed on this machine; not replacing it")
    v1, v2 = version() + "+cvtest1", version() + "+cvtest2"
    debs = []
    try:
        debs.append(build_deb(v1, binary))
        debs.append(build_deb(v2, binary))
        _, info = run(["dpkg-deb", "-f", debs[0], "Depends", "Version"])
        assert "Depends: libc6 (>= 2." in info and ("Version: " + v1) in info, info

        # install
        run(["dpkg", "-i", debs[0]])
        assert status() == "install ok installed %s" % v1, status()
        _, out = run(["/usr/bin/chatvault", "version"])
        assert out.startswith("chatvault " + version()), out
        for path in ("/usr/share/man/man1/chatvault.1.gz", "/lib/systemd/system/chatvault.service",
                     "/lib/systemd/system/chatvault-backup.timer", "/etc/chatvault/chatvault.env",
                     "/usr/share/doc/chatvault/copyright"):
            assert os.path.isfile(path), path
        files1 = installed_files()
        _, conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "chatvault"])
        assert "/etc/chatvault/chatvault.env" in conffiles, conffiles

        # data as the service keeps it, a changed conffile
        os.makedirs("/var/lib/chatvault", exist_ok=True)
        db = "/var/lib/chatvault/chatvault.db"
        p = subprocess.run(["/usr/bin/chatvault", "user", "add", "deb@example.test", "--db", db],
                           input=b"deb-test-password\n", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        assert p.returncode == 0, p
        with open("/etc/chatvault/chatvault.env", "a") as f:
            f.write("CHATVAULT_NO_SIGNUP=1\n")

        # upgrade
        run(["dpkg", "-i", debs[1]])
        assert status() == "install ok installed %s" % v2, status()
        run(["/usr/bin/chatvault", "check", "--db", db])
        with open("/etc/chatvault/chatvault.env") as f:
            assert f.read().endswith("CHATVAULT_NO_SIGNUP=1\n"), "the upgrade replaced a changed conffile"
        files2 = installed_files()

        # remove: the program goes, the data and the conffile stay
        run(["dpkg", "-r", "chatvault"])
        assert status().startswith("deinstall ok config-files"), status()
        assert not os.path.exists("/usr/bin/chatvault")
        assert not os.path.exists("/lib/systemd/system/chatvault.service")
        assert os.path.isfile(db), "dpkg -r removed the data"
        assert os.path.isfile("/etc/chatvault/chatvault.env"), "dpkg -r removed the conffile"

        # purge: nothing left
        run(["dpkg", "-P", "chatvault"])
        assert status() == "" or "not-installed" in status(), status()
        left = [p for p in sorted(files1 | files2) if os.path.lexists(p)]
        left += [p for p in ("/etc/chatvault", "/var/lib/chatvault", "/var/lib/private/chatvault")
                 if os.path.lexists(p)]
        assert not left, "left after purge: %s" % left
    finally:
        subprocess.run(["dpkg", "-P", "chatvault"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        for d in debs:
            try:
                os.remove(d)
            except OSError:
                pass
        for v in (v1, v2):
            shutil.rmtree(os.path.join(cv.ROOT, "build", "deb", "chatvault_%s_%s" % (v, arch())),
                          ignore_errors=True)
        try:
            os.rmdir(os.path.join(cv.ROOT, "build", "deb"))   # when nothing else is in it
        except OSError:
            pass
