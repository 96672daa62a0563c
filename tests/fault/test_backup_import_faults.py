"""Faults of the offline commands (issue 10, "Faults not yet covered"): a full disk during
`chatvault backup` and during `chatvault import-legacy`, and `kill -9` during `backup`.

- backup onto a full disk: exit 1 with a clear message, no file under the final name and no
  temporary file left; with room, the same command succeeds and `check` passes.
- kill -9 at many points of a backup: the final name either does not exist or holds a
  complete backup that passes `check` (the copy is written under a temporary name, fsync'ed,
  then renamed), never a half-written file.
- import-legacy with the database on a full disk: it stops with a non-zero exit and a clear
  message, the database passes `check`; with room again, running the same import completes
  it (idempotent), every chat once.
A full disk is a small tmpfs (as tests/fault/test_disk_full.py); skipped, with the reason,
where mounting one is not permitted."""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect  # noqa: E402
from cvstats import record_stat  # noqa: E402

TEST_TIMEOUT = 400
T = "/api/v1/chat-threads"
TMP = None


def setup_module():
    global TMP
    TMP = tempfile.mkdtemp(prefix="cv-bkfault-")


def teardown_module():
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


def mount_tmpfs(size):
    d = tempfile.mkdtemp(prefix="cv-full-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", d],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        os.rmdir(d)
        return None, p.stdout.decode(errors="replace").strip()
    return d, None


def umount(d):
    subprocess.run(["umount", "-l", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        os.rmdir(d)
    except OSError:
        pass


def big_database(mib):
    """A database of about `mib` MiB written through the API (threads of ~900 KB)."""
    db = os.path.join(TMP, "src-%s.db" % uuid.uuid4().hex[:8])
    with cv.Server(db=db) as srv:
        _, tok, _ = cv.new_user(srv, "bk")
        c = cv.Client(srv, tok)
        chunk = "x" * 300000
        for i in range(max(1, mib)):
            expect(c.post(T, json={"title": "big %d" % i, "messages": [
                {"role": "user", "content": "%d-%s" % (i, chunk)},
                {"role": "assistant", "content": "%d-%s" % (i, chunk)},
                {"role": "user", "content": "%d-%s" % (i, chunk)}]}), 201)
        c.close()
    return db


def check_ok(path, what):
    r = cv.run_cli(["check"], db=path, timeout=120)
    assert r.returncode == 0, "%s: check failed: %r" % (what, r)


def test_backup_onto_a_full_disk_leaves_nothing():
    """Backup of a ~4 MiB database onto a 1 MiB tmpfs: exit 1 naming the full disk, no file under the final name, no temporary left; with room: exit 0 and check passes."""
    d, err = mount_tmpfs("1m")
    if d is None:
        print("skip fault.test_backup_import_faults: cannot mount a tmpfs here (%s)" % err)
        return
    try:
        src = big_database(4)
        out = os.path.join(d, "cv-backup.db")
        r = cv.run_cli(["backup", out], db=src, timeout=120)
        assert r.returncode == 1, "backup onto a full disk: %r" % r
        low = r.stderr.lower()
        assert "full" in low or "space" in low, "no clear message: %r" % r
        assert not os.path.exists(out), "a backup file was left under its final name"
        assert os.listdir(d) == [], "files left on the full disk: %r" % os.listdir(d)
        # with room: the same command works and the copy is whole
        out2 = os.path.join(TMP, "cv-backup-ok.db")
        r = cv.run_cli(["backup", out2], db=src, timeout=120)
        assert r.returncode == 0, r
        check_ok(out2, "backup with room")
        assert glob.glob(out2 + ".partial-*") == [], "a temporary file was left"
        # never overwrites an existing file
        r = cv.run_cli(["backup", out2], db=src, timeout=120)
        assert r.returncode == 1 and "exists" in r.stderr, r
        check_ok(out2, "backup not overwritten")
    finally:
        umount(d)


def test_kill9_during_backup_never_leaves_a_half_written_file():
    """kill -9 at 12 points from start to past the end of backups of a ~40 MiB database: the final name is absent or a backup that passes check; never half-written."""
    src = big_database(40)
    bin_ = cv.find_binary()
    # how long one backup takes here
    t0 = time.monotonic()
    probe = os.path.join(TMP, "probe.db")
    r = cv.run_cli(["backup", probe], db=src, timeout=300)
    assert r.returncode == 0, r
    full = time.monotonic() - t0
    check_ok(probe, "uninterrupted backup")
    absent = complete = 0
    for i in range(12):
        out = os.path.join(TMP, "kill-%d.db" % i)
        p = subprocess.Popen([bin_, "backup", out, "--db", src], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=cv.base_env())
        at = full * (i + 0.5) / 9          # from just after the start to 1.3 times its length
        time.sleep(at)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if os.path.exists(out):
            check_ok(out, "backup killed after %.2fs" % at)
            assert not os.path.exists(out + "-journal"), "a journal next to the final name"
            complete += 1
        else:
            absent += 1
        for f in glob.glob(out + ".partial-*"):
            os.unlink(f)
    print("  kill -9 during backup (%.2fs each): %d absent, %d complete, 0 half-written"
          % (full, absent, complete))
    record_stat("kill9_backup", rounds=12, absent=absent, complete=complete, seconds=round(full, 3))


def legacy_rows(n_users, chats_per_user, size):
    rows = []
    for u in range(n_users):
        entries = []
        for k in range(chats_per_user):
            entries.append({"chat_id": str(uuid.uuid4()), "character_id": None, "character_name": "Ada",
                            "character_picture": None, "scene_id": None, "scene_name": None,
                            "scene_picture": None, "persona_id": None, "title": "Chat %d" % k,
                            "messages": [{"role": "user", "content": "u%d-c%d-%s" % (u, k, "y" * size)},
                                         {"role": "assistant", "content": "reply %d" % k}],
                            "last_updated": "2024-05-01T10:%02d:00" % (k % 60),
                            "created_at": "2024-05-01T09:00:00"})
        rows.append({"id": u + 1, "email": "legacy-%d-%s@example.com" % (u, uuid.uuid4().hex[:6]),
                     "hashed_password": "$2b$12$x", "is_active": True, "chat_history": entries})
    return rows


def count_chats(db):
    return cv.sql_one(db, "SELECT count(*) FROM chat_histories")


def test_import_legacy_onto_a_full_disk_stops_cleanly_and_resumes():
    """import-legacy of ~6 MB into a database on a 4 MiB tmpfs: non-zero exit with a clear message, check passes; with room, the same import completes, every chat once."""
    d, err = mount_tmpfs("4m")
    if d is None:
        print("skip fault.test_backup_import_faults: cannot mount a tmpfs here (%s)" % err)
        return
    try:
        db = os.path.join(d, "cv.db")
        rows = legacy_rows(300, 2, 10000)     # 600 chats of ~10 KB, in batches: about 6 MB
        src = os.path.join(TMP, "legacy.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        r = cv.run_cli(["import-legacy", src], db=db, timeout=300)
        assert r.returncode != 0, "import onto a full disk reported success: %r" % r
        low = (r.stderr + r.stdout).lower()
        assert "full" in low or "space" in low or "storage" in low, "no clear message: %r" % r
        assert "sanitizer" not in low, r
        check_ok(db, "database after a full-disk import")
        before = count_chats(db)
        assert before < 600, "everything imported on a 4 MiB disk? %d chats" % before
        # more room: move the database to a roomy directory and run the same import again
        roomy = os.path.join(TMP, "roomy.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                shutil.copy(db + suffix, roomy + suffix)
        r = cv.run_cli(["import-legacy", src], db=roomy, timeout=300)
        assert r.returncode == 0, "import with room: %r" % r
        check_ok(roomy, "database after the resumed import")
        assert count_chats(roomy) == 600, "chats after the resumed import: %d of 600" % count_chats(roomy)
        print("  import-legacy on a full disk: %d of 600 chats before it stopped, 600 after resuming"
              % before)
        record_stat("import_disk_full", before=before, after=600)
    finally:
        umount(d)
