"""Checkpoint auth-passwords (notebook 25): auth-service's src/security/passwords.py.

The policy (NIST SP 800-63B-4, OWASP ASVS 5.0): lengths in code points after NFKC, no composition
rules, common passwords refused in any case, the email's local part refused, every problem at once.
Storage: bcrypt over base64(HMAC-SHA256(pepper, password)), never truncated, verified in constant
time, never raising on a malformed hash, rehashed when the cost changes, the same work for an
unknown user, and the async wrappers hashing in a bounded pool of worker threads.

Every hash here is made at cost 4 (about a millisecond): what is checked does not depend on time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

SERVICE = "auth-service"
MODULE = "src.security.passwords"
PEPPER = b"checkpoint pepper, not a real one"
COST = 4
CODES = {"too_short", "too_long", "common", "contains_email"}
HASH = re.compile(r"\$2b\$(\d\d)\$[./A-Za-z0-9]{53}")


@pytest.fixture
def passwords(load_service: Callable[[str, str], Any]) -> Any:
    return load_service(SERVICE, MODULE)


def codes(passwords: Any, password: str, **options: Any) -> list[str]:
    """The problem codes the policy gives, each problem checked for a code and a sentence."""
    problems = passwords.password_problems(password, **options)
    assert isinstance(problems, list), f"password_problems returned {type(problems).__name__}, not a list"
    for problem in problems:
        code, message = problem.code, problem.message
        assert code in CODES, f"{password!r}: unknown problem code {code!r} (one of {sorted(CODES)})"
        assert isinstance(message, str) and message.strip(), f"{password!r}: problem {code} has no message"
    return [problem.code for problem in problems]


def cost_of(hashed: bytes | str) -> int:
    text = hashed.decode("ascii") if isinstance(hashed, bytes) else hashed
    return int(text.split("$")[2])


def test_the_module_imports_with_its_list(passwords: Any, service_dir: Callable[[str], Any]) -> None:
    """passwords.py imports and loads the shipped list of common passwords, with its licence beside it"""
    folder = service_dir(SERVICE) / "src" / "security"
    assert (folder / "common_passwords.txt").is_file(), "no src/security/common_passwords.txt"
    licence = folder / "common_passwords.LICENSE"
    assert licence.is_file(), "no src/security/common_passwords.LICENSE beside the list"
    assert "Django" in licence.read_text(encoding="utf-8"), "the licence does not name the list's source"
    common = passwords.common_passwords()
    assert isinstance(common, frozenset), "common_passwords() is not a frozenset"
    assert len(common) >= 3000, f"only {len(common)} common passwords: the shipped list has 8,354"
    assert {"password1234", "qwerty123456", "iloveyou"} <= common, "the shipped list is not loaded"
    assert all(entry == unicodedata.normalize("NFKC", entry).casefold() for entry in common)


def test_defaults_follow_the_settings(passwords: Any) -> None:
    """the defaults are the settings' own: cost 12, lengths 12 to 128"""
    assert passwords.DEFAULT_COST == 12, f"DEFAULT_COST is {passwords.DEFAULT_COST}"
    assert (passwords.MIN_LENGTH, passwords.MAX_LENGTH) == (12, 128)
    assert passwords.MIN_CONTEXT_WORD == 3, f"MIN_CONTEXT_WORD is {passwords.MIN_CONTEXT_WORD}"


def test_lengths_count_characters_after_nfkc(passwords: Any) -> None:
    """lengths are Unicode code points after NFKC, never bytes; min_length and max_length are honoured"""
    assert codes(passwords, "plain words") == ["too_short"], "11 characters are too short (minimum 12)"
    assert codes(passwords, "plain words!") == [], "12 characters are enough"
    assert codes(passwords, "é" * 11) == ["too_short"], "11 characters, 22 bytes: too short"
    assert codes(passwords, "é" * 12) == [], "12 characters (24 bytes) are enough"
    assert codes(passwords, "😀" * 64) == [], "64 emoji are 64 characters (256 bytes): allowed"
    assert codes(passwords, "😀" * 128) == [], "128 characters are allowed"
    assert codes(passwords, "😀" * 129) == ["too_long"], "129 characters are too long (maximum 128)"
    decomposed = "e\u0301" * 12  # 24 code points as typed, 12 after NFKC
    assert codes(passwords, decomposed, min_length=13) == ["too_short"], "count after NFKC normalization"
    assert codes(passwords, "ｆｕｌｌ ｗｉｄｔｈ ｔｅｘｔ", min_length=15) == []
    assert codes(passwords, "a long passphrase", min_length=18) == ["too_short"], "min_length is a parameter"
    assert codes(passwords, "a long passphrase", max_length=16) == ["too_long"], "max_length is a parameter"
    assert codes(passwords, "q" * 64, max_length=64) == [], "64 characters fit max_length=64"


def test_no_composition_rules(passwords: Any) -> None:
    """long passphrases of one kind of character are accepted: no rule asks for digits, capitals or symbols"""
    for password in [
        "correct horse battery staple",
        "alllowercaseletters",
        "8302 1946 5520 7713",
        "ĉiu ŝaŭdo estas bona",
        "ПАРОЛЬ ИЗ ПЯТИ СЛОВ",
    ]:
        assert codes(passwords, password) == [], f"{password!r} was refused"


def test_common_passwords_are_refused_in_any_case(passwords: Any) -> None:
    """a password from the shipped list is refused however it is capitalised or typed"""
    for password in [
        "password1234",
        "Password1234",
        "PASSWORD1234",
        "QwErTy123456",
        "ｑｗｅｒｔｙ１２３４５６",
    ]:
        assert codes(passwords, password) == ["common"], f"{password!r} is on the list"
    assert codes(passwords, "ILoveYou", min_length=8) == ["common"], "min_length=8: iloveyou is on the list"
    assert codes(passwords, "password1234 and more") == [], "only the whole password is compared"


def test_the_email_local_part_is_refused(passwords: Any) -> None:
    """a password containing the email's local part (in any case, 3 characters or more) is refused"""
    email = "Ada.Lovelace@example.com"
    assert codes(passwords, "my ada.lovelace passphrase", email=email) == ["contains_email"]
    assert codes(passwords, "ADA.LOVELACE forever and ever", email=email) == ["contains_email"]
    assert codes(passwords, "analytical engine notes", email=email) == []
    assert codes(passwords, "my ada.lovelace passphrase") == [], "no email given: nothing to compare"
    assert codes(passwords, "grace hopper's compiler", email="grace@example.com") == ["contains_email"]
    assert codes(passwords, "jolly good fellows", email="jo@example.com") == [], "a 2-letter local part"


def test_every_problem_is_reported_at_once(passwords: Any) -> None:
    """every problem comes in one list, each with its code and a sentence a client can show"""
    assert sorted(codes(passwords, "abc", email="abc@example.org")) == ["contains_email", "too_short"]
    assert sorted(codes(passwords, "password")) == ["common", "too_short"]
    both = codes(passwords, "Password1234", email="password@example.org")
    assert sorted(both) == ["common", "contains_email"]


def reference_prehash(password: str, pepper: bytes) -> bytes:
    message = unicodedata.normalize("NFKC", password).encode("utf-8")
    return base64.b64encode(hmac.new(pepper, message, hashlib.sha256).digest())


def test_prehash_is_base64_of_hmac_sha256(passwords: Any) -> None:
    """prehash(password, pepper) is base64(HMAC-SHA256(pepper, NFKC(password) in UTF-8)), 44 bytes"""
    for password in ["correct horse battery staple", "e\u0301t\u00e9", "😀" * 64, "x" * 1000, ""]:
        for pepper in (PEPPER, b"another pepper"):
            found = passwords.prehash(password, pepper)
            assert found == reference_prehash(password, pepper), f"prehash({password[:20]!r}, ...)"
            assert len(found) == 44 and b"\0" not in found


def test_hash_then_verify(passwords: Any) -> None:
    """hash_password stores bcrypt ($2b$, at the cost asked) of the pre-hash; only that password verifies"""
    password = "correct horse battery staple"
    stored = passwords.hash_password(password, PEPPER, COST)
    assert isinstance(stored, str), f"hash_password returned {type(stored).__name__}, not str"
    assert HASH.fullmatch(stored), f"not a $2b$ bcrypt hash: {stored[:10]}..."
    assert cost_of(stored) == COST, f"asked for cost {COST}, got {cost_of(stored)}"
    assert cost_of(passwords.hash_password(password, PEPPER, 5)) == 5
    assert stored != passwords.hash_password(password, PEPPER, COST), "each hash needs a fresh salt"
    import bcrypt

    assert bcrypt.checkpw(reference_prehash(password, PEPPER), stored.encode()), "bcrypt of prehash(...)"
    assert not bcrypt.checkpw(password.encode(), stored.encode()), "bcrypt of the raw password"
    assert passwords.verify_password(password, stored, PEPPER, COST) is True
    assert passwords.verify_password("correct horse battery stapler", stored, PEPPER, COST) is False
    assert passwords.verify_password(password, stored, b"another pepper", COST) is False
    composed = passwords.hash_password("caf\u00e9 au lait, s'il vous plaît", PEPPER, COST)
    assert passwords.verify_password("cafe\u0301 au lait, s'il vous plaît", composed, PEPPER, COST)


def test_long_passwords_are_never_truncated(passwords: Any) -> None:
    """two 100-character passwords differing in the last character never verify against each other"""
    first, second = "x" * 99 + "a", "x" * 99 + "b"
    stored = passwords.hash_password(first, PEPPER, COST)
    assert passwords.verify_password(first, stored, PEPPER, COST) is True
    assert passwords.verify_password(second, stored, PEPPER, COST) is False, "truncated at 72 bytes"
    emoji = "😀" * 64  # 256 bytes: plain bcrypt 5 raises ValueError
    assert passwords.verify_password(emoji, passwords.hash_password(emoji, PEPPER, COST), PEPPER, COST)
    long = "abc" * 400
    assert passwords.verify_password(long, passwords.hash_password(long, PEPPER, COST), PEPPER, COST)
    assert not passwords.verify_password(long[:-1], passwords.hash_password(long, PEPPER, COST), PEPPER, COST)


def test_verify_never_raises_on_a_malformed_hash(passwords: Any) -> None:
    """a stored hash that is no bcrypt hash (garbage, truncated, non-ASCII, Argon2) verifies False"""
    import bcrypt

    good = bcrypt.hashpw(reference_prehash("p", PEPPER), bcrypt.gensalt(COST)).decode()
    for bad in [
        "",
        "garbage",
        "$2b$04$short",
        good[:-1],
        "$2b$99$" + good[7:],
        "é" * 60,
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
    ]:
        try:
            answer = passwords.verify_password("p", bad, PEPPER, COST)
        except Exception as error:
            pytest.fail(f"verify_password raised {type(error).__name__} on the stored hash {bad[:20]!r}")
        assert answer is False, f"{bad[:20]!r} verified {answer!r}"
    assert passwords.verify_password("p", good, PEPPER, COST) is True


def test_verify_compares_in_constant_time(passwords: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """the comparison is bcrypt.checkpw (or hmac.compare_digest), never =="""
    import bcrypt

    calls: list[str] = []

    def spy(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            calls.append(name)
            return real(*args)

        return call

    stored = bcrypt.hashpw(reference_prehash("p", PEPPER), bcrypt.gensalt(COST)).decode()
    monkeypatch.setattr(bcrypt, "checkpw", spy("checkpw", bcrypt.checkpw))
    monkeypatch.setattr(hmac, "compare_digest", spy("compare_digest", hmac.compare_digest))
    monkeypatch.setattr(secrets, "compare_digest", spy("compare_digest", secrets.compare_digest))
    assert passwords.verify_password("p", stored, PEPPER, COST) is True
    assert calls, "verify_password compared without bcrypt.checkpw or hmac.compare_digest"


def test_needs_rehash_follows_the_cost(passwords: Any) -> None:
    """needs_rehash is False only for a $2b$ hash at the cost asked; never raises"""
    import bcrypt

    at4 = bcrypt.hashpw(b"p", bcrypt.gensalt(4)).decode()
    at5 = bcrypt.hashpw(b"p", bcrypt.gensalt(5)).decode()
    assert passwords.needs_rehash(at4, 4) is False, "a hash at the cost asked needs nothing"
    assert passwords.needs_rehash(at5, 5) is False
    assert passwords.needs_rehash(at4, 5) is True, "cost raised from 4 to 5: rehash"
    assert passwords.needs_rehash(at4, 12) is True
    assert passwords.needs_rehash(at5, 4) is True, "cost lowered from 5 to 4: rehash too"
    assert passwords.needs_rehash("$2a$" + at4[4:], 4) is True, "a $2a$ hash: rehash as $2b$"
    for bad in ["", "garbage", at4[:-1]]:
        assert passwords.needs_rehash(bad, 4) is True, f"{bad[:20]!r} is no bcrypt hash: rehash"


def test_an_unknown_user_costs_one_bcrypt_check(passwords: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """verify_password(password, None, ...) checks against dummy_hash(cost), at that cost, then says False"""
    import bcrypt

    dummy = passwords.dummy_hash(5)  # made before the spies: its own hashpw is not the check
    assert HASH.fullmatch(dummy.decode()) and cost_of(dummy) == 5, "dummy_hash(5) is a $2b$05$ hash"
    assert passwords.dummy_hash(5) is dummy, "dummy_hash is made once per cost"
    work: list[int] = []
    real_checkpw, real_hashpw = bcrypt.checkpw, bcrypt.hashpw

    def checkpw(password: bytes, hashed: bytes) -> bool:
        work.append(cost_of(hashed))
        return real_checkpw(password, hashed)

    def hashpw(password: bytes, salt: bytes) -> bytes:
        work.append(cost_of(salt))
        return real_hashpw(password, salt)

    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    monkeypatch.setattr(bcrypt, "hashpw", hashpw)
    for password in ["correct horse battery staple", "😀" * 64]:
        work.clear()
        assert passwords.verify_password(password, None, PEPPER, 5) is False, "no user: False"
        assert work == [5], f"an unknown user cost bcrypt work at costs {work}: expected one check at 5"


def test_hashing_runs_in_a_bounded_worker_pool(passwords: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """the async wrappers run in worker threads, at most one per core (HASHING_LIMITER), never on the loop"""
    import anyio

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    assert passwords.cores() == cores, f"cores() is {passwords.cores()}, this process may use {cores}"
    limiter = passwords.HASHING_LIMITER
    assert limiter.total_tokens == cores, f"HASHING_LIMITER has {limiter.total_tokens} tokens, not {cores}"
    threads: list[int] = []
    running = [0, 0]  # now, most at once
    lock = threading.Lock()

    def slow(result: Any) -> Any:
        with lock:
            threads.append(threading.get_ident())
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.03)
        with lock:
            running[0] -= 1
        return result

    monkeypatch.setattr(passwords, "hash_password", lambda p, pepper, cost=12: slow(f"{p}:{cost}"))
    monkeypatch.setattr(passwords, "verify_password", lambda p, h, pepper, cost=12: slow(h == p))
    results: list[Any] = []

    async def main() -> int:
        async def one(index: int) -> None:
            if index % 2:
                results.append(await passwords.verify_password_async("p", "p", PEPPER, COST))
            else:
                results.append(await passwords.hash_password_async(f"p{index}", PEPPER, COST))

        async with anyio.create_task_group() as group:
            for index in range(4 * cores):
                group.start_soon(one, index)
        return threading.get_ident()

    loop_thread = anyio.run(main)
    assert len(threads) == 4 * cores, "the wrappers do not call hash_password and verify_password"
    assert loop_thread not in threads, "hashing ran on the event loop: use anyio.to_thread.run_sync"
    assert running[1] <= cores, f"{running[1]} hashes ran at once: pass limiter=HASHING_LIMITER"
    assert sorted(map(str, results)) == sorted(
        ["True"] * (2 * cores) + [f"p{i}:{COST}" for i in range(0, 4 * cores, 2)]
    ), "the wrappers pass the arguments on and return the results"
