"""make install into a DESTDIR: the binary with its sendmail and mailq links, and the sendmail
Debian's cron and scripts run (/usr/sbin/sendmail, /usr/lib/sendmail), which replaces another
mail system's only with FORCE=yes, or through update-alternatives (here under --root DESTDIR:
the machine's own /usr/sbin/sendmail is never touched)."""
import os
import shutil
import subprocess

import pytest

from conftest import ESTAFETA

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make_install(destdir, **variables):
    """make install of the binary under test (-o: taken as built, never rebuilt here)."""
    build = os.path.dirname(os.path.abspath(ESTAFETA))
    args = ["make", "-s", "-C", REPO, "install", f"BUILD={build}", f"DESTDIR={destdir}",
            "-o", os.path.join(build, "estafeta")]
    args += [f"{k}={v}" for k, v in variables.items()]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def link(destdir, path):
    return os.readlink(str(destdir) + path)


def test_install_lays_every_sendmail_and_says_so(tmp_path):
    out = make_install(tmp_path)
    assert os.access(tmp_path / "usr/local/sbin/estafeta", os.X_OK)
    assert link(tmp_path, "/usr/local/sbin/sendmail") == "estafeta"
    assert link(tmp_path, "/usr/local/bin/mailq") == "../sbin/estafeta"
    assert link(tmp_path, "/usr/sbin/sendmail") == "/usr/local/sbin/estafeta"
    assert link(tmp_path, "/usr/lib/sendmail") == "../sbin/sendmail"
    assert out.splitlines() == [
        "install: installed /usr/local/sbin/estafeta",
        "install: linked /usr/local/sbin/sendmail -> estafeta",
        "install: linked /usr/local/bin/mailq -> ../sbin/estafeta",
        "install: linked /usr/sbin/sendmail -> /usr/local/sbin/estafeta",
        "install: linked /usr/lib/sendmail -> ../sbin/sendmail",
    ]
    again = make_install(tmp_path)
    assert "install: /usr/sbin/sendmail already runs estafeta" in again
    assert "install: /usr/lib/sendmail follows /usr/sbin/sendmail" in again


@pytest.fixture
def other_mta(tmp_path):
    """A DESTDIR where another mail system's sendmail is installed, as Postfix lays it."""
    os.makedirs(tmp_path / "usr/sbin")
    os.makedirs(tmp_path / "usr/lib")
    (tmp_path / "usr/sbin/sendmail").write_text("#!/bin/sh\necho postfix\n")
    os.symlink("../sbin/sendmail", tmp_path / "usr/lib/sendmail")
    return tmp_path


def test_another_mta_is_replaced_only_with_force(other_mta):
    out = make_install(other_mta)
    assert ("install: left /usr/sbin/sendmail alone: it is a file (another mail system's); "
            "FORCE=yes replaces it") in out
    assert (other_mta / "usr/sbin/sendmail").read_text() == "#!/bin/sh\necho postfix\n"
    assert link(other_mta, "/usr/lib/sendmail") == "../sbin/sendmail"

    out = make_install(other_mta, FORCE="yes")
    assert ("install: replaced /usr/sbin/sendmail (it was a file, kept as "
            "/usr/sbin/sendmail.before-estafeta) with a link to /usr/local/sbin/estafeta") in out
    assert link(other_mta, "/usr/sbin/sendmail") == "/usr/local/sbin/estafeta"
    assert (other_mta / "usr/sbin/sendmail.before-estafeta").read_text() == "#!/bin/sh\necho postfix\n"


def test_update_alternatives_registers_and_replaces_only_with_force(other_mta):
    if shutil.which("update-alternatives") is None:
        pytest.skip("no update-alternatives")
    out = make_install(other_mta, ALTERNATIVES="yes")
    assert "install: left /usr/sbin/sendmail alone: it is a file (another mail system's); " \
           "registered with update-alternatives, FORCE=yes replaces it" in out
    assert (other_mta / "usr/sbin/sendmail").read_text() == "#!/bin/sh\necho postfix\n"
    query = subprocess.run(["update-alternatives", "--root", str(other_mta), "--query", "sendmail"],
                           capture_output=True, text=True, timeout=60).stdout
    assert "Value: /usr/local/sbin/estafeta" in query

    out = make_install(other_mta, ALTERNATIVES="yes", FORCE="yes")
    assert "install: /usr/sbin/sendmail runs estafeta through update-alternatives" in out
    assert link(other_mta, "/usr/sbin/sendmail") == "/etc/alternatives/sendmail"
    assert link(other_mta, "/etc/alternatives/sendmail") == "/usr/local/sbin/estafeta"
    assert "install: /usr/lib/sendmail follows /usr/sbin/sendmail" in out
