"""--help, SUBCOMMAND --help, the man page and typo suggestions (issue 15), checked against the
option table itself (src/options.c, read here as text): every flag appears in the help of each
subcommand that takes it, with its environment variable, and nowhere else; the man page has
every flag and variable and renders without a groff (or mandoc) warning; the README's flag
table and dist/chatvault.env name every flag and variable."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import run_cli  # noqa: E402

TEST_TIMEOUT = 60

CMD_BITS = {
    "CV_CMD_SERVE": ["serve"], "CV_CMD_USER": ["user"], "CV_CMD_TOKEN": ["token"],
    "CV_CMD_IMPORT_LEGACY": ["import-legacy"], "CV_CMD_IMPORT": ["import"],
    "CV_CMD_EXPORT": ["export"], "CV_CMD_BACKUP": ["backup"], "CV_CMD_CHECK": ["check"],
    "CV_CMD_VERSION": ["version"], "CV_CMD_HELP": ["help"], "CV_CMD_CLUSTER": ["cluster"],
    "CV_CMD_STORE": ["serve", "user", "token", "import-legacy", "import", "export"],
    "CV_CMD_RESTORE": ["restore"],
    "CV_CMD_ON_CLUSTER": ["user", "token", "import-legacy", "import", "export", "backup",
                          "check", "restore"],
}
SUBCOMMANDS = ["serve", "user", "token", "import", "export", "import-legacy", "backup",
               "restore", "check", "cluster", "version", "help"]


def option_table():
    """[(flag, env or None, {subcommands})] from the rows of aCvOption in src/options.c."""
    with open(os.path.join(cv.ROOT, "src", "options.c"), encoding="utf-8") as f:
        src = f.read()
    body = src[src.index("const struct cv_option aCvOption[] = {"):src.index("const int nCvOption")]
    rows = re.findall(r'\{\s*"([a-z0-9-]+)",\s*(NULL|"CHATVAULT_[A-Z0-9_]+"),.*?'
                      r'((?:CV_CMD_[A-Z_]+\s*\|?\s*)+),\s*CV_OPT_', body, re.S)
    out = []
    for name, env, cmds in rows:
        subs = set()
        for bit in re.findall(r"CV_CMD_[A-Z_]+", cmds):
            subs.update(CMD_BITS[bit])
        out.append((name, None if env == "NULL" else env.strip('"'), subs))
    assert len(out) == body.count('\n  { "'), "could not read every row of aCvOption: %r" % out
    assert len(out) >= 28, out
    return out


def ok(res, what=""):
    assert res.returncode == 0, "%s: expected exit 0: %r" % (what, res)
    return res


def usage_error(res, what=""):
    assert res.returncode == 2, "%s: expected exit 2: %r" % (what, res)
    assert res.stderr.strip(), "%s: no message: %r" % (what, res)
    return res.stderr


def flag_lines(text):
    """The flags listed in a help text (lines `  --name ...`)."""
    return set(re.findall(r"^  --([a-z0-9-]+)", text, re.M))


def test_top_level_help_lists_subcommands_and_every_flag_with_its_env():
    res = ok(run_cli(["--help"]), "--help")
    assert res.stdout.startswith("chatvault "), res.stdout[:200]
    for sub in SUBCOMMANDS:
        assert re.search(r"^  chatvault %s\b" % re.escape(sub), res.stdout, re.M), "subcommand %s missing" % sub
    table = option_table()
    assert flag_lines(res.stdout) == {n for n, _, _ in table}, flag_lines(res.stdout)
    for name, env, _ in table:
        block = re.search(r"^  --%s\b.*?(?=^  --|\Z)" % re.escape(name), res.stdout, re.M | re.S)
        assert block, name
        if env:
            assert env in block.group(0), "--%s: %s not in %r" % (name, env, block.group(0))
        else:
            assert "no environment variable" in block.group(0), block.group(0)
    for args in (["-h"], ["help"]):
        assert ok(run_cli(args)).stdout == res.stdout, args


def test_each_subcommand_help_lists_exactly_its_flags_with_env_and_default():
    table = option_table()
    for sub in SUBCOMMANDS:
        res = ok(run_cli([sub, "--help"]), sub + " --help")
        assert res.stdout.startswith("usage: chatvault %s" % sub), res.stdout[:200]
        want = {n for n, _, subs in table if sub in subs}
        assert flag_lines(res.stdout) == want, "%s: %s, expected %s" % (
            sub, sorted(flag_lines(res.stdout)), sorted(want))
        for name, env, subs in table:
            if sub not in subs:
                continue
            block = re.search(r"^  --%s\b.*?(?=^  --|\Z)" % re.escape(name), res.stdout,
                              re.M | re.S).group(0)
            assert (env or "no environment variable") in block, (sub, name, block)
            assert "default " in block, (sub, name, block)
        if not want:
            assert "takes no flags" in res.stdout, res.stdout
        # the same from `chatvault help SUB` and with -h after the arguments
        assert ok(run_cli(["help", sub])).stdout == res.stdout, sub
    assert ok(run_cli(["token", "revoke", "x@example.com", "-h"])).stdout.startswith(
        "usage: chatvault token")
    assert "import-legacy" not in ok(run_cli(["import", "--help"])).stdout.split("\n")[0]


def test_defaults_shown_are_the_ones_used():
    """--help shows each default from the table, which is also what the parser starts from: a
    few spot checks of the text against the behaviour documented in README."""
    out = ok(run_cli(["serve", "--help"])).stdout
    for name, default in (("db", "./chatvault.db"), ("listen", "127.0.0.1:8080"),
                          ("token-ttl", "30d"), ("history-limit", "30"),
                          ("max-body", "1048576 (1 MiB)"), ("max-user-bytes", "1073741824 (1 GiB)"),
                          ("threads", "2048"), ("sync", "full"), ("no-signup", "off")):
        block = re.search(r"^  --%s\b.*?(?=^  --|\Z)" % name, out, re.M | re.S).group(0)
        assert "default %s" % default in " ".join(block.split()), (name, block)


def test_unknown_flag_names_the_nearest():
    err = usage_error(run_cli(["serve", "--histroy-limit", "3"]), "typo")
    assert "unknown flag --histroy-limit (did you mean --history-limit?)" in err, err
    err = usage_error(run_cli(["import", "a@b.c", "f.json", "--formt", "chatgpt"]))
    assert "(did you mean --format?)" in err, err
    err = usage_error(run_cli(["token", "a@b.c", "--token-tl=1h"]))
    assert "(did you mean --token-ttl?)" in err, err
    err = usage_error(run_cli(["serve", "--lisen=127.0.0.1:0"]))
    assert "(did you mean --listen?)" in err, err
    err = usage_error(run_cli(["serve", "--xyzzy-plugh", "1"]), "far from every flag")
    assert "unknown flag --xyzzy-plugh" in err and "did you mean" not in err, err
    # a known flag that this subcommand does not take: said so, with who takes it
    err = usage_error(run_cli(["backup", "out.db", "--listen", "127.0.0.1:0"]))
    assert "--listen is not a flag of backup" in err and "serve" in err, err


def test_unknown_subcommand_names_the_nearest():
    err = usage_error(run_cli(["serv"]))
    assert "unknown subcommand serv (did you mean serve?)" in err, err
    err = usage_error(run_cli(["imprt", "a@b.c", "x.json"]))
    assert "(did you mean import?)" in err, err
    err = usage_error(run_cli(["bakup", "x.db"]))
    assert "(did you mean backup?)" in err, err
    err = usage_error(run_cli(["frobnicate"]))
    assert "unknown subcommand frobnicate" in err and "did you mean" not in err, err
    err = usage_error(run_cli(["help", "tokne"]))
    assert "(did you mean token?)" in err, err


def man_source():
    res = ok(run_cli(["--man"]), "--man")
    assert res.stdout.startswith(".\\\""), res.stdout[:100]
    assert "\n.TH CHATVAULT 1 " in res.stdout, res.stdout[:300]
    return res.stdout


def render(src):
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-P-cbou"], input=src.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0 and not p.stderr, "groff: %r" % p.stderr[-2000:]
    text = p.stdout.decode("utf-8")
    # groff may write a minus or hyphen as U+2212 / U+2010: compare in ASCII
    return text.replace("\u2212", "-").replace("\u2010", "-")


def test_man_page_has_every_flag_and_env_and_renders_without_warnings():
    if not shutil.which("groff"):
        raise cv.Skip("groff is not installed (apt-get install groff)")
    text = render(man_source())
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS", "OPTIONS", "ENVIRONMENT",
                    "FILES", "EXIT STATUS", "EXAMPLES"):
        assert re.search(r"^%s$" % section, text, re.M), "no %s section" % section
    for name, env, _ in option_table():
        assert re.search(r"^\s+--%s\b" % re.escape(name), text, re.M), "--%s not in the man page" % name
        if env:
            assert re.search(r"^\s+%s$" % env, text, re.M), "%s not in ENVIRONMENT" % env
    for sub in SUBCOMMANDS:
        assert "chatvault %s" % sub in text, sub


def test_man_page_passes_mandoc_lint():
    if not shutil.which("mandoc"):
        raise cv.Skip("mandoc is not installed (apt-get install mandoc); groff -ww is checked")
    p = subprocess.run(["mandoc", "-Tlint", "-Wall"], input=man_source().encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    out = (p.stdout + p.stderr).decode()
    assert p.returncode == 0 and not out.strip(), out


def test_readme_and_env_file_name_every_flag_and_variable():
    with open(os.path.join(cv.ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    with open(os.path.join(cv.ROOT, "dist", "chatvault.env"), encoding="utf-8") as f:
        envfile = f.read()
    table_rows = [ln for ln in readme.splitlines() if ln.startswith("| `--")]
    for name, env, _ in option_table():
        assert any("`--%s" % name in ln for ln in table_rows), "README's flag table lacks --%s" % name
        if env:
            assert any("`--%s" % name in ln and env in ln for ln in table_rows), \
                "README's flag table lacks %s on the row of --%s" % (env, name)
            assert env in envfile, "dist/chatvault.env lacks %s" % env
