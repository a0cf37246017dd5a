"""deploy/nginx/tipline.conf passes `nginx -t` (when nginx is installed: Debian's nginx package;
skipped otherwise), and the instance unit deploy/tipline@.service names its port."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tipline.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


def test_nginx_accepts_the_reverse_proxy_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        pytest.skip("nginx is absent (Debian's nginx package)")
    cert, key = _self_signed(tmp_path)
    site = (ROOT / "deploy/nginx/tipline.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/tipline.example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/tipline.example.org/privkey.pem", str(key))
    (tmp_path / "tipline.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  client_body_temp_path {tmp_path};\n  include {tmp_path}/tipline.conf;\n}}\n"
    )
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr


def test_the_instance_unit_serves_its_port_and_the_proxy_knows_the_path() -> None:
    unit = (ROOT / "deploy/tipline@.service").read_text()
    assert "TIPBOT_WEBHOOK_LISTEN=127.0.0.1:%i" in unit
    # systemd lets EnvironmentFile= override Environment=: the unit says to leave it out there
    assert "must not set TIPBOT_WEBHOOK_LISTEN" in unit
    site = (ROOT / "deploy/nginx/tipline.conf").read_text()
    assert "location = /telegram/hook" in site and "client_max_body_size 1m" in site
    assert "X-Telegram-Bot-Api-Secret-Token" in site
