"""Throwaway TLS for the local Redis `rankstream dev up` starts when `RANKSTREAM_REDIS_URL` is `rediss://`.

`certificates(run_dir, host)` writes, once, a CA and a certificate for `host` signed by it under
`<home>/run/tls/` (with `openssl`); `ca_file(run_dir)` is the CA that clients verify the server with
(`RANKSTREAM_REDIS_SSL_CA_CERTS` must name it). `server_options(run_dir, port, cluster)` are a node's
redis-server options: TLS only, on `port`, and for a cluster node its bus and replication over TLS
too; `cli_options(run_dir)` are redis-cli's.
Ignores client certificates: the servers ask for none (`--tls-auth-clients no`); the URL's password
authenticates clients, as with a managed Redis. For development and tests only: the CA's key lies
beside it, and the files are kept with the home (delete `<home>/run/tls/` for new ones).
"""

import ipaddress
import shutil
import subprocess
from pathlib import Path

# Generated once per home and kept: a developer's certificates never expire under them.
VALID_DAYS = 3650
# An EC key is generated in milliseconds (an RSA one takes up to a second on a slow machine).
KEY_OPTIONS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
OPENSSL_TIMEOUT_S = 30.0


def tls_dir(run_dir: Path) -> Path:
    """Absolute: a cluster node's `--dir` changes its working directory before it reads the files."""
    return (run_dir / "tls").resolve()


def ca_file(run_dir: Path) -> Path:
    return tls_dir(run_dir) / "ca.crt"


def _openssl(directory: Path, *args: str) -> None:
    if shutil.which("openssl") is None:
        raise RuntimeError("TLS for the local Redis needs openssl: apt-get install -y openssl")
    subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=OPENSSL_TIMEOUT_S)


def certificates(run_dir: Path, host: str) -> None:
    """A CA (`ca.crt`, `ca.key`) and a certificate for `host` it signed (`server.crt`, `server.key`),
    unless already there."""
    directory = tls_dir(run_dir)
    if (directory / "server.crt").exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    days = str(VALID_DAYS)
    _openssl(directory, "req", "-x509", *KEY_OPTIONS, "-keyout", "ca.key", "-out", "ca.crt", "-days", days,
             "-subj", "/CN=rankstream dev CA")  # fmt: skip
    _openssl(directory, "req", *KEY_OPTIONS, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={host}")
    try:
        name = f"IP:{ipaddress.ip_address(host)}"
    except ValueError:
        name = f"DNS:{host}"
    # Strict verifiers (Python 3.13's default context) want the issuer's key named and a non-CA leaf.
    (directory / "server.ext").write_text(
        f"subjectAltName={name}\nauthorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\n"
    )
    _openssl(directory, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", days, "-extfile", "server.ext")  # fmt: skip


def server_options(run_dir: Path, port: int, cluster: bool) -> list[str]:
    directory = tls_dir(run_dir)
    options = ["--port", "0", "--tls-port", str(port), "--tls-auth-clients", "no"]
    options += ["--tls-cert-file", str(directory / "server.crt"), "--tls-key-file", str(directory / "server.key")]
    options += ["--tls-ca-cert-file", str(ca_file(run_dir))]
    return options + (["--tls-cluster", "yes", "--tls-replication", "yes"] if cluster else [])


def cli_options(run_dir: Path) -> list[str]:
    return ["--tls", "--cacert", str(ca_file(run_dir))]
