"""estafeta mail with OpenPGP (PGP/MIME through GnuPG) and S/MIME (OpenSSL CMS), end to end
against estafeta: each kind sent to a local account and read back with the client, and
interop both ways with gpg and openssl cms. The test setup makes a throwaway GnuPG keyring
per user and self-signed test certificates."""
import email
import email.policy
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from test_mail_client import env_for, mail, out, raw, wait_list

USERS = ("alice", "bob", "carol", "dave")
TEXT = "Das Treffen ist um 10 Uhr. Grüße\n"
ATTACHMENT = bytes(range(256)) * 8


def gpg(home, *args, input=None, check=True):
    p = subprocess.run(["gpg", "--homedir", home, "--batch", "--yes", "--pinentry-mode", "loopback",
                        "--passphrase", "", *args], input=input, capture_output=True, timeout=60)
    if check:
        assert p.returncode == 0, (args, p.stderr)
    return p


def openssl(*args, input=None, check=True):
    p = subprocess.run(["openssl", *args], input=input, capture_output=True, timeout=60)
    if check:
        assert p.returncode == 0, (args, p.stderr)
    return p


@pytest.fixture
def crew(instance_factory, tmp_path):
    """alice, bob and dave with OpenPGP keys (alice and bob know each other's), alice and bob
    with S/MIME certificates; carol has no key at all."""
    inst = instance_factory()
    for user in USERS:
        inst.add_user(f"{user}@example.test")
    inst.config("auth.failure_delay", "0s")
    inst.start()
    homes = {}
    env = {}
    for user in USERS:
        # short: gpg-agent's socket lives in the home
        homes[user] = tempfile.mkdtemp(prefix=f"gpg-{user}-", dir="/tmp")
        os.chmod(homes[user], 0o700)
        data = tmp_path / f"data-{user}"
        data.mkdir()
        env[user] = env_for(inst, f"{user}@example.test", GNUPGHOME=homes[user], XDG_DATA_HOME=str(data),
                            ESTAFETA_MAIL_NAME=user.capitalize())
        if user != "carol":
            gpg(homes[user], "--quick-gen-key", f"{user.capitalize()} <{user}@example.test>",
                "future-default", "default", "never")
    for a, b in (("alice", "bob"), ("bob", "alice")):
        key = gpg(homes[a], "--export", "--armor", f"{a}@example.test").stdout
        gpg(homes[b], "--import", input=key)
    for user in ("alice", "bob"):
        cert, key = tmp_path / f"{user}.pem", tmp_path / f"{user}.key"
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-keyout", str(key),
                "-out", str(cert), "-subj", f"/CN={user.capitalize()}/emailAddress={user}@example.test",
                "-addext", f"subjectAltName=email:{user}@example.test")
        env[user].update(ESTAFETA_MAIL_SMIME_CERT=str(cert), ESTAFETA_MAIL_SMIME_KEY=str(key))
    yield inst, env, homes, tmp_path
    for home in homes.values():
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def raw_bytes(env, n, folder=None):
    return mail(env, "read", str(n), "--raw", *(["--folder", folder] if folder else [])).stdout


def key_id(home, addr):
    fpr = re.search(rb"^fpr:+([0-9A-F]+):", gpg(home, "--with-colons", "--list-keys", addr).stdout, re.M)
    return fpr.group(1).decode()[-16:]


def parts(data):
    """The two parts of a multipart/signed or /encrypted message: the first as the exact
    octets between its delimiters, and the second's decoded payload."""
    m = email.message_from_bytes(data, policy=email.policy.compat32)
    boundary = m.get_boundary().encode()
    body = data.split(b"\r\n\r\n", 1)[1]
    chunks = body.split(b"--" + boundary)
    first = chunks[1][2:-2]  # after the delimiter's CRLF; the CRLF before the next is its
    return first, m.get_payload()[1].get_payload(decode=True)


def append(inst, user, message):
    c = inst.imap(user=f"{user}@example.test")
    typ, data = c.append("INBOX", None, None, message)
    c.logout()
    assert typ == "OK", data


def test_pgp_signed_encrypted_and_both_read_back(crew, tmp_path):
    inst, env, homes, _ = crew
    att = tmp_path / "plan.bin"
    att.write_bytes(ATTACHMENT)
    mail(env["alice"], "send", "--to", "bob@example.test", "--subject", "Signiert", "--sign", input=TEXT.encode())
    mail(env["alice"], "send", "--to", "bob@example.test", "--subject", "Geheim", "--encrypt",
         "--attach", str(att), input=TEXT.encode())
    mail(env["alice"], "send", "--to", "bob@example.test", "--subject", "Beides", "--sign", "--encrypt",
         input=TEXT.encode())
    wait_list(env["bob"], 3)
    alice_id = key_id(homes["bob"], "alice@example.test")

    shown = out(env["bob"], "read", "1")
    assert f"Good signature from Alice <alice@example.test> (key ID {alice_id}, untrusted)" in shown
    assert "Subject: Signiert" in shown and TEXT in shown
    assert "signature.asc" not in shown

    m = raw(env["bob"], 2)
    assert m["Subject"] == "..." and m.get_content_type() == "multipart/encrypted"
    assert b"Treffen" not in raw_bytes(env["bob"], 2)
    shown = out(env["bob"], "read", "2")
    assert shown.startswith("Encrypted to you\n") and "signature" not in shown.lower()
    assert "Subject: Geheim" in shown and TEXT in shown and "plan.bin" in shown
    part = re.search(r"\[(\S+)\] plan\.bin", shown).group(1)
    assert mail(env["bob"], "save", "2", part, "-").stdout == ATTACHMENT
    assert out(env["bob"], "list").count("...") == 2  # the server only ever has the outer Subject

    shown = out(env["bob"], "read", "3")
    assert "Encrypted to you" in shown and "Good signature from Alice <alice@example.test>" in shown
    assert "Subject: Beides" in shown and TEXT in shown

    # the Sent copy is encrypted to alice too, and her own key is trusted in her keyring
    shown = out(env["alice"], "read", "3", "--folder", "Sent")
    assert "Encrypted to you" in shown and "Subject: Beides" in shown
    assert re.search(r"Good signature from Alice <alice@example.test> \(key ID \w+, trusted\)", shown)

    # a reply to encrypted mail quotes the decrypted text, and is encrypted itself
    mail(env["bob"], "reply", "2", input=b"Passt.\n")
    wait_list(env["alice"], 1)
    assert b"Treffen" not in raw_bytes(env["alice"], 1)
    shown = out(env["alice"], "read", "1")
    assert "Encrypted to you" in shown and "Subject: Re: Geheim" in shown
    assert "> Das Treffen ist um 10 Uhr." in shown and "Passt." in shown


def test_gpg_checks_what_the_client_sends(crew):
    inst, env, homes, tmp = crew
    mail(env["alice"], "send", "--to", "bob@example.test", "--subject", "Signiert", "--sign", input=TEXT.encode())
    mail(env["alice"], "send", "--to", "bob@example.test", "--subject", "Geheim", "--encrypt", input=TEXT.encode())
    wait_list(env["bob"], 2)
    signed, signature = parts(raw_bytes(env["bob"], 1))
    (tmp / "content").write_bytes(signed)
    (tmp / "sig.asc").write_bytes(signature)
    p = gpg(homes["bob"], "--verify", str(tmp / "sig.asc"), str(tmp / "content"))
    assert b'Good signature from "Alice <alice@example.test>"' in p.stderr
    assert b'protected-headers="v1"' in signed and b"Subject: Signiert" in signed

    _, cipher = parts(raw_bytes(env["bob"], 2))
    plain = gpg(homes["bob"], "--decrypt", input=cipher).stdout
    inner = email.message_from_bytes(plain, policy=email.policy.default)
    assert inner["Subject"] == "Geheim" and inner.get_content().replace("\r\n", "\n") == TEXT
    # carol, without a key, cannot read it
    assert gpg(homes["carol"], "--decrypt", input=cipher, check=False).returncode != 0


def pgp_mime_signed(home, signer, subject, text, boundary="signed-by-gpg"):
    inner = (f"Content-Type: text/plain; charset=us-ascii\r\n\r\n{text}\r\n").encode()
    sig = gpg(home, "--armor", "--detach-sign", "--local-user", signer, input=inner).stdout
    return (f"From: {signer}\r\nTo: bob@example.test\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; "
            f"boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n").encode() + inner + \
        (f"\r\n--{boundary}\r\nContent-Type: application/pgp-signature\r\n\r\n").encode() + sig + \
        f"\r\n--{boundary}--\r\n".encode()


def test_client_reads_what_gpg_makes_and_sees_tampering(crew):
    inst, env, homes, _ = crew
    append(inst, "bob", pgp_mime_signed(homes["alice"], "alice@example.test", "from gpg", "made by gpg"))
    tampered = pgp_mime_signed(homes["alice"], "alice@example.test", "tampered", "pay 10 euros")
    append(inst, "bob", tampered.replace(b"pay 10 euros", b"pay 99 euros"))
    append(inst, "bob", pgp_mime_signed(homes["dave"], "dave@example.test", "unknown key", "who am I"))
    inner = b"Content-Type: text/plain; charset=utf-8\r\nSubject: inside\r\n\r\nencrypted by gpg\r\n"
    cipher = gpg(homes["alice"], "--armor", "--encrypt", "--trust-model", "always",
                 "--recipient", "bob@example.test", input=inner).stdout
    encrypted = (b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: ...\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; "
           b"boundary=\"enc\"\r\n\r\n--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
           b"--enc\r\nContent-Type: application/octet-stream\r\n\r\n" + cipher + b"\r\n--enc--\r\n")
    append(inst, "bob", encrypted)

    shown = out(env["bob"], "read", "1")
    assert "Good signature from Alice <alice@example.test>" in shown and "made by gpg" in shown
    shown = out(env["bob"], "read", "2")
    assert "BAD signature" in shown and "Good signature" not in shown
    shown = out(env["bob"], "read", "3")
    assert f"Signed by a key not in your keyring (key ID {key_id(homes['dave'], 'dave@example.test')})" in shown
    shown = out(env["bob"], "read", "4")
    assert "Encrypted to you" in shown and "Subject: inside" in shown and "encrypted by gpg" in shown
    # carol holds no key for it: she is told, and sees no text
    append(inst, "carol", encrypted)
    shown = out(env["carol"], "read", "1")
    assert "Encrypted, but not to any key you have" in shown and "encrypted by gpg" not in shown


def test_encrypting_to_someone_without_a_key_names_them(crew):
    inst, env, _, _ = crew
    p = mail(env["alice"], "send", "--to", "bob@example.test, carol@example.test", "--subject", "x",
             "--encrypt", input=b"secret\n", check=False)
    assert p.returncode == 1
    err = p.stderr.decode()
    assert "carol@example.test" in err and "bob@example.test" not in err and "nothing sent" in err
    time.sleep(0.5)
    assert inst.mailbox("bob@example.test") == [] and inst.mailbox("carol@example.test") == []


def test_smime_signed_and_encrypted_with_openssl_both_ways(crew):
    inst, env, _, tmp = crew
    mail(env["alice"], "send", "--to", "bob@example.test", "--subject", "S/MIME signiert", "--smime-sign",
         input=TEXT.encode())
    wait_list(env["bob"], 1)
    shown = out(env["bob"], "read", "1")
    assert re.search(r"Good signature from Alice <alice@example.test> \(S/MIME certificate [0-9A-F]{16}, untrusted\)", shown)
    assert "Subject: S/MIME signiert" in shown and TEXT in shown and "smime.p7s" not in shown
    (tmp / "signed.eml").write_bytes(raw_bytes(env["bob"], 1))
    p = openssl("cms", "-verify", "-in", str(tmp / "signed.eml"), "-CAfile", str(tmp / "alice.pem"))
    assert b"Verification successful" in p.stderr and "Treffen".encode() in p.stdout
    # bob learnt alice's certificate from her signed mail, and can now encrypt to her
    assert "alice@example.test" in out(env["bob"], "keys")
    mail(env["bob"], "send", "--to", "alice@example.test", "--subject", "S/MIME geheim", "--smime-encrypt",
         "--smime-sign", input=TEXT.encode())
    wait_list(env["alice"], 1)
    (tmp / "enc.eml").write_bytes(raw_bytes(env["alice"], 1))
    assert b"Treffen" not in (tmp / "enc.eml").read_bytes()
    shown = out(env["alice"], "read", "1")
    assert "Encrypted to you (S/MIME)" in shown and "Good signature from Bob <bob@example.test>" in shown
    assert "Subject: S/MIME geheim" in shown and TEXT in shown
    p = openssl("cms", "-decrypt", "-in", str(tmp / "enc.eml"), "-recip", str(tmp / "alice.pem"),
                "-inkey", str(tmp / "alice.key"))
    assert b"multipart/signed" in p.stdout and b"application/pkcs7-signature" in p.stdout
    # carol has no certificate: bob cannot encrypt to her
    p = mail(env["bob"], "send", "--to", "carol@example.test", "--subject", "x", "--smime-encrypt",
             input=b"x\n", check=False)
    assert p.returncode == 1 and "carol@example.test" in p.stderr.decode()

    # what openssl makes, the client reads
    (tmp / "in.txt").write_bytes(b"Content-Type: text/plain\r\n\r\nsigned by openssl\r\n")
    signed = openssl("cms", "-sign", "-in", str(tmp / "in.txt"), "-binary", "-signer", str(tmp / "bob.pem"),
                     "-inkey", str(tmp / "bob.key"), "-from", "bob@example.test", "-to", "alice@example.test",
                     "-subject", "openssl signed").stdout
    signed = b"Date: Fri, 04 Dec 2026 06:00:00 +0000\r\n" + signed
    append(inst, "alice", signed)
    enc = openssl("cms", "-encrypt", "-in", str(tmp / "in.txt"), "-binary", "-aes256", "-from", "bob@example.test",
                  "-to", "alice@example.test", "-subject", "openssl encrypted", str(tmp / "alice.pem")).stdout
    enc = b"Date: Fri, 04 Dec 2026 06:00:00 +0000\r\n" + enc
    append(inst, "alice", enc)
    wait_list(env["alice"], 3)
    shown = out(env["alice"], "read", "2")
    assert "Good signature from Bob <bob@example.test>" in shown and "signed by openssl" in shown
    shown = out(env["alice"], "read", "3")
    assert "Encrypted to you (S/MIME)" in shown and "signed by openssl" in shown
    tampered = signed.replace(b"signed by openssl", b"signed by mallory")
    append(inst, "alice", tampered)
    assert "BAD signature" in out(env["alice"], "read", "4")


def test_autocrypt_teaches_keys_and_encrypt_uses_them(crew):
    inst, env, homes, _ = crew
    # dave does not have alice's key; her Autocrypt header gives it to him
    assert mail(env["dave"], "send", "--to", "alice@example.test", "--encrypt", "--subject", "x",
                input=b"x\n", check=False).returncode == 1
    mail(env["alice"], "send", "--to", "dave@example.test", "--subject", "hello", input=b"hi dave\n")
    wait_list(env["dave"], 1)
    m = raw(env["dave"], 1)
    assert m["Autocrypt"].startswith("addr=alice@example.test;") and "keydata=" in m["Autocrypt"]
    assert "hi dave" in out(env["dave"], "read", "1")
    keys = out(env["dave"], "keys")
    assert re.search(r"OpenPGP keys \(your GnuPG keyring\):\n  [0-9A-F]{40}  Dave <dave@example.test>  \(yours\)\n", keys)
    assert re.search(r"Autocrypt peers:\n  alice@example.test  prefer-encrypt=nopreference", keys)
    mail(env["dave"], "send", "--to", "alice@example.test", "--encrypt", "--subject", "reply",
         input=b"encrypted thanks to Autocrypt\n")
    wait_list(env["alice"], 1)
    shown = out(env["alice"], "read", "1")
    assert "Encrypted to you" in shown and "encrypted thanks to Autocrypt" in shown


def test_settings_sign_by_default_and_encrypt_when_possible(crew):
    inst, env, _, tmp = crew
    # with an S/MIME certificate as well, pgp_key says OpenPGP is the default
    alice = dict(env["alice"], ESTAFETA_MAIL_SIGN_BY_DEFAULT="yes", ESTAFETA_MAIL_ENCRYPT_WHEN_POSSIBLE="yes",
                 ESTAFETA_MAIL_PGP_KEY="alice@example.test")
    mail(alice, "send", "--to", "bob@example.test", "--subject", "auto", input=TEXT.encode())
    mail(alice, "send", "--to", "carol@example.test", "--subject", "no key", input=TEXT.encode())
    wait_list(env["bob"], 1)
    wait_list(env["carol"], 1)
    assert raw(env["bob"], 1)["Autocrypt"].startswith("addr=alice@example.test; prefer-encrypt=mutual;")
    shown = out(env["bob"], "read", "1")
    assert "Encrypted to you" in shown and "Good signature from Alice" in shown and "Subject: auto" in shown
    # carol has no key: signed only
    shown = out(env["carol"], "read", "1")
    assert "Signed by a key not in your keyring" in shown and "Subject: no key" in shown
    # with only a certificate, S/MIME is the default
    mail(env["alice"] | {"ESTAFETA_MAIL_SIGN_BY_DEFAULT": "yes"}, "send", "--to", "carol@example.test",
         "--subject", "smime", input=TEXT.encode())
    wait_list(env["carol"], 2)
    assert "Good signature from Alice <alice@example.test> (S/MIME certificate" in out(env["carol"], "read", "2")
    # a PKCS#12 file holds certificate and key in one
    p12 = tmp / "alice.p12"
    openssl("pkcs12", "-export", "-in", str(tmp / "alice.pem"), "-inkey", str(tmp / "alice.key"),
            "-passout", "pass:", "-out", str(p12))
    pkcs12 = dict(env["alice"], ESTAFETA_MAIL_SMIME_CERT=str(p12), ESTAFETA_MAIL_SMIME_KEY="")
    mail(pkcs12, "send", "--to", "carol@example.test", "--subject", "p12", "--smime-sign", input=TEXT.encode())
    wait_list(env["carol"], 3)
    assert "Good signature from Alice <alice@example.test> (S/MIME certificate" in out(env["carol"], "read", "3")
    p = mail(dict(alice, ESTAFETA_MAIL_SIGN_BY_DEFAULT="maybe"), "list", check=False)
    assert p.returncode != 0 and "sign_by_default must be yes or no" in p.stderr.decode()
