"""A throwaway OpenLDAP server (Debian's slapd) on a free 127.0.0.1 port, for the LDAP tests.

It runs from a temporary folder (config, database) and, when the tests run as root, drops to
`nobody`; `people` and `groups` are seeded through ldapadd.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.ports import free_port

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=parley,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "slapd-admin-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"


@dataclass(frozen=True)
class Directory:
    url: str

    def ldif(self, text: str, modify: bool = False) -> None:
        """Apply LDIF as the directory's administrator (ldapadd, or ldapmodify)."""
        command = ["ldapmodify"] + ([] if modify else ["-a"])
        subprocess.run(
            [*command, "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
            input=text.encode(), check=True, capture_output=True,
        )  # fmt: skip


def _config(root: Path) -> str:
    schemas = "\n".join(
        f"include /etc/ldap/schema/{name}.schema" for name in ("core", "cosine", "inetorgperson")
    )
    return f"""{schemas}
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {root}/slapd.pid
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {root}/data
"""


def person(uid: str, password: str) -> str:
    return f"""dn: uid={uid},{PEOPLE}
objectClass: inetOrgPerson
uid: {uid}
cn: {uid.title()}
sn: {uid.title()}
mail: {uid}@parley.test
userPassword: {password}

"""


def group(cn: str, *members: str) -> str:
    lines = "".join(f"member: uid={m},{PEOPLE}\n" for m in members)
    return f"dn: cn={cn},{GROUPS}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}\n"


@contextmanager
def running_slapd() -> Iterator[Directory]:
    """Start slapd, seed the base entries, stop it (and remove its folder) afterwards."""
    root = Path(tempfile.mkdtemp(prefix="parley-slapd-"))
    (root / "data").mkdir()
    (root / "slapd.conf").write_text(_config(root))
    command = [SLAPD, "-f", str(root / "slapd.conf"), "-d", "0"]
    if os.geteuid() == 0:  # never run a test directory server as root
        nobody = pwd.getpwnam("nobody")
        for path in (root, root / "data", root / "slapd.conf"):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        command += ["-u", "nobody", "-g", str(nobody.pw_gid)]
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*command, "-h", f"{url}/"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        directory = Directory(url)
        base = f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Parley\ndc: parley\n\n"
        base += f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
        base += f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n\n"
        deadline = time.monotonic() + 20
        while True:
            try:
                directory.ldif(base)
                break
            except subprocess.CalledProcessError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"slapd did not start: {error}") from None
                time.sleep(0.2)
        yield directory
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
