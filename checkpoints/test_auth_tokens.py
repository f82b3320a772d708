"""Checkpoint auth-tokens: auth-service's signing keys, its JWKS, and the access and refresh tokens it
issues and verifies (step 2.20, "How does JWT work?").

Every token the verification checks receive is made here, with PyJWT or by hand, and every token the
issuing checks receive is read here with PyJWT and the public key: the two exercises are checked apart."""

import base64
import hashlib
import hmac
import json
import stat
import time
import uuid
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SERVICE = "auth-service"
ISSUER, AUDIENCE = "auth-test", "services-test"
ACCESS_TTL, REFRESH_TTL = 600, 7200  # not the defaults: a lifetime written as a number shows
PUBLIC_MEMBERS = {"kty", "crv", "x", "y", "kid", "alg", "use"}
REQUIRED = ["iss", "aud", "sub", "exp", "iat", "nbf", "jti"]
DROP = object()  # a claim or header left out

pytestmark = pytest.mark.filterwarnings("error")  # PyJWT's key-length warnings included


@pytest.fixture
def keys(load_service):
    return load_service(SERVICE, "src.security.keys")


@pytest.fixture
def auth(load_service):
    """tokens.py and the very keys.py it imported."""
    import sys

    tokens = load_service(SERVICE, "src.security.tokens")
    return SimpleNamespace(tokens=tokens, keys=sys.modules["src.security.keys"])


@pytest.fixture
def key_set(auth, tmp_path):
    """A set of two live keys: key-0002.pem signs."""
    auth.keys.generate_key(tmp_path / "keys")
    auth.keys.generate_key(tmp_path / "keys")
    return auth.keys.load_key_set(tmp_path / "keys")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def thumbprint(public_key):
    """RFC 7638, computed here from the public numbers."""
    numbers = public_key.public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("ascii")
    return b64url(hashlib.sha256(canonical).digest())


def claims(now=None, **changes):
    """Good access-token claims, with `changes` (DROP leaves a claim out)."""
    now = int(time.time()) if now is None else int(now)
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-7",
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TTL,
        "jti": str(uuid.uuid4()),
        "roles": ["user"],
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not DROP}


def sign(key, payload, *, typ="at+jwt", kid=None):
    """`payload` signed by `key` (a SigningKey) with ES256, the kid (its own unless given) and typ."""
    headers = {"kid": key.kid if kid is None else kid, "typ": None if typ is DROP else typ}
    if kid is DROP:
        del headers["kid"]
    return jwt.encode(payload, key.private_key, algorithm="ES256", headers=headers)


def forge(header, payload, signer):
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64url(signer(signing_input.encode('ascii')))}"


def es256_by(private_key):
    def signer(data):
        r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return signer


def decode(auth, key_set, token, *, refresh=False, leeway=10):
    """decode_token as the access (or refresh) verification calls it."""
    tokens = auth.tokens
    return tokens.decode_token(
        token,
        key_set,
        issuer=ISSUER,
        audience=ISSUER if refresh else AUDIENCE,
        token_type=tokens.REFRESH_TOKEN_TYPE if refresh else tokens.ACCESS_TOKEN_TYPE,
        leeway=leeway,
    )


def refusal(auth, key_set, token, **options):
    """The reason decode_token refuses `token` for; AssertionError when it accepts it, or raises
    anything but TokenError, or a message that is not the service's own."""
    try:
        decode(auth, key_set, token, **options)
    except auth.tokens.TokenError as error:
        reason = getattr(error, "reason", None)
        assert reason in auth.tokens.MESSAGES, f"TokenError with the unknown reason {reason!r}"
        assert str(error) == auth.tokens.MESSAGES[reason], (
            f"TokenError({reason!r}) says {str(error)!r}: the message must be MESSAGES[reason], "
            "never PyJWT's text"
        )
        return reason
    except Exception as error:  # noqa: BLE001 - any other exception is the finding
        raise AssertionError(
            f"{type(error).__name__} escaped decode_token instead of a TokenError: {error}"
        ) from None
    raise AssertionError("accepted")


def assert_refused(auth, key_set, token, expected, what, **options):
    try:
        reason = refusal(auth, key_set, token, **options)
    except AssertionError as error:
        if str(error) == "accepted":
            raise AssertionError(f"{what}: accepted; it must be refused as {expected!r}") from None
        raise AssertionError(f"{what}: {error}") from None
    assert reason == expected, f"{what}: refused as {reason!r}, expected {expected!r}"


def service(auth, key_set):
    return auth.tokens.TokenService(
        key_set,
        issuer=ISSUER,
        audience=AUDIENCE,
        access_ttl_seconds=ACCESS_TTL,
        refresh_ttl_seconds=REFRESH_TTL,
    )


def read(key, token, audience):
    """The header and claims of an issued token, its ES256 signature checked with `key`'s public half."""
    untimed = {"verify_exp": False, "verify_nbf": False, "verify_iat": False}  # `now` is a day ago
    payload = jwt.decode(
        token, key.public_key, algorithms=["ES256"], audience=audience, issuer=ISSUER, options=untimed
    )
    return jwt.get_unverified_header(token), payload


def is_uuid(value):
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


# The key set (no exercise).


def test_development_generates_a_private_first_key(keys, tmp_path):
    """a missing folder: KeyConfigError, or in development a first key-0001.pem, 0600 in a 0700 folder"""
    folder = tmp_path / "state" / "keys"
    with pytest.raises(keys.KeyConfigError, match="keys"):
        keys.load_key_set(folder)
    assert not folder.exists(), "load_key_set without generate_if_missing must not create the folder"
    key_set = keys.load_key_set(folder, generate_if_missing=True)
    files = sorted(path.name for path in folder.iterdir())
    assert files == ["key-0001.pem"], f"the folder holds {files}, expected ['key-0001.pem']"
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, "the keys folder must be 0700"
    mode = stat.S_IMODE((folder / "key-0001.pem").stat().st_mode)
    assert mode == 0o600, f"key-0001.pem has mode {oct(mode)}, expected 0o600"
    key = serialization.load_pem_private_key((folder / "key-0001.pem").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    assert len(key_set.keys) == 1 and key_set.signing_key.path == folder / "key-0001.pem"
    again = keys.load_key_set(folder, generate_if_missing=True)
    assert [k.kid for k in again.keys] == [key_set.signing_key.kid], "a second load made another key"
    (tmp_path / "empty").mkdir()
    with pytest.raises(keys.KeyConfigError):
        keys.load_key_set(tmp_path / "empty")


def test_kid_is_the_rfc7638_thumbprint(keys, tmp_path):
    """each key's kid is the RFC 7638 thumbprint of its public key"""
    keys.generate_key(tmp_path)
    key = keys.load_key_set(tmp_path).signing_key
    assert key.kid == thumbprint(key.public_key), f"kid {key.kid!r} is not the key's RFC 7638 thumbprint"


def test_newest_key_signs_and_a_retired_key_is_gone(keys, tmp_path):
    """three keys: key-0003 signs, each kid finds its key; a retired key's kid then finds none"""
    for _ in range(3):
        keys.generate_key(tmp_path)
    key_set = keys.load_key_set(tmp_path)
    assert [k.path.name for k in key_set.keys] == ["key-0001.pem", "key-0002.pem", "key-0003.pem"]
    assert key_set.signing_key.path.name == "key-0003.pem", "the newest key must sign"
    for key in key_set.keys:
        found = key_set.public_key(key.kid)
        assert found is not None and found.public_numbers() == key.public_key.public_numbers()
    assert key_set.public_key("no-such-kid") is None and key_set.public_key(None) is None
    middle = key_set.keys[1]
    keys.retire_key(tmp_path, middle.kid)
    after = keys.load_key_set(tmp_path)
    assert [k.path.name for k in after.keys] == ["key-0001.pem", "key-0003.pem"]
    assert after.public_key(middle.kid) is None, "a retired key still verifies"
    keys.retire_key(tmp_path, after.keys[0].kid)
    with pytest.raises(keys.KeyConfigError):
        keys.retire_key(tmp_path, after.signing_key.kid)  # the last key: its successor comes first


# Exercise 1: the JWKS.


def test_jwks_publishes_no_private_part(key_set):
    """the JWKS holds only public members (kty, crv, x, y, kid, alg, use): never d"""
    for jwk in key_set.jwks()["keys"]:
        assert "d" not in jwk, "the JWKS publishes d, the private key: anyone could sign tokens"
        assert set(jwk) == PUBLIC_MEMBERS, f"JWK members {sorted(jwk)}, expected {sorted(PUBLIC_MEMBERS)}"


def test_jwks_describes_each_live_key(key_set):
    """one JWK per live key, in order: EC P-256 point, its kid, ES256, sig; PyJWT verifies with it"""
    jwks = key_set.jwks()
    assert set(jwks) == {"keys"}, f"a JWK Set is {{'keys': [...]}}, got members {sorted(jwks)}"
    assert len(jwks["keys"]) == len(key_set.keys), "the JWKS must list every live key"
    for jwk, key in zip(jwks["keys"], key_set.keys):
        expected = {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": key.kid}
        wrong = {m: jwk.get(m) for m, v in expected.items() if jwk.get(m) != v}
        assert not wrong, f"JWK members {wrong}, expected {expected}"
        numbers = key.public_key.public_numbers()
        for member, value in (("x", numbers.x), ("y", numbers.y)):
            text = jwk.get(member)
            assert isinstance(text, str) and "=" not in text, f"{member} must be base64url, no padding"
            raw = b64decode(text)
            assert len(raw) == 32, f"{member} decodes to {len(raw)} bytes, expected 32"
            assert int.from_bytes(raw, "big") == value, f"{member} is not the key's {member} coordinate"
    verifier = jwt.PyJWKSet.from_dict(jwks)
    for key in key_set.keys:
        token = sign(key, claims())
        jwt.decode(token, verifier[key.kid].key, algorithms=["ES256"], audience=AUDIENCE)


# Exercise 2: issuing.


def test_access_token_claims(auth, key_set):
    """an access token: ES256, typ at+jwt, the newest kid; iss, aud, sub, iat=nbf, exp=iat+ttl, jti, roles"""
    now = int(time.time()) - 86400 + 0.75  # a day ago: a clock read instead of `now` shows
    token = service(auth, key_set).issue_access_token("user-7", ["user", "admin"], now=now)
    header, payload = read(key_set.signing_key, token, AUDIENCE)
    assert header.get("alg") == "ES256" and header.get("typ") == "at+jwt", f"header {header}"
    assert header.get("kid") == key_set.signing_key.kid, "the header's kid is not the newest key's"
    assert payload.get("iss") == ISSUER and payload.get("aud") == AUDIENCE, f"iss/aud: {payload}"
    assert payload.get("sub") == "user-7", f"sub is {payload.get('sub')!r}"
    assert payload.get("iat") == int(now), f"iat is {payload.get('iat')!r}, expected int(now) = {int(now)}"
    assert payload.get("nbf") == int(now), f"nbf is {payload.get('nbf')!r}, expected iat"
    assert "exp" in payload, "no exp: the token would never expire"
    assert (
        payload["exp"] == int(now) + ACCESS_TTL
    ), f"exp - iat is {payload['exp'] - int(now)}, expected access_ttl_seconds = {ACCESS_TTL}"
    assert is_uuid(payload.get("jti")), f"jti {payload.get('jti')!r} is not a str(uuid.uuid4())"
    assert payload.get("roles") == ["user", "admin"], f"roles is {payload.get('roles')!r}"
    assert "fam" not in payload, "fam belongs to refresh tokens"


def test_refresh_token_claims(auth, key_set):
    """a refresh token: its own typ, aud = the issuer, exp=iat+refresh ttl, fam kept or new, no roles"""
    tokens = auth.tokens
    now = int(time.time()) - 86400
    issuer = service(auth, key_set)
    token = issuer.issue_refresh_token("user-7", family="family-1", now=now)
    header, payload = read(key_set.signing_key, token, ISSUER)
    assert header.get("typ") == tokens.REFRESH_TOKEN_TYPE, f"typ is {header.get('typ')!r}"
    assert tokens.REFRESH_TOKEN_TYPE != tokens.ACCESS_TOKEN_TYPE, "both kinds have the same typ"
    assert header.get("alg") == "ES256" and header.get("kid") == key_set.signing_key.kid, header
    assert payload.get("aud") == ISSUER, f"aud is {payload.get('aud')!r}: a refresh token is for the issuer"
    assert payload.get("iss") == ISSUER and payload.get("sub") == "user-7", payload
    assert payload.get("iat") == now and payload.get("nbf") == now, payload
    assert "exp" in payload, "no exp: the refresh token would never expire"
    assert (
        payload["exp"] == now + REFRESH_TTL
    ), f"exp - iat is {payload['exp'] - now}, expected refresh_ttl_seconds = {REFRESH_TTL}"
    assert is_uuid(payload.get("jti")), f"jti {payload.get('jti')!r} is not a str(uuid.uuid4())"
    assert payload.get("fam") == "family-1", f"fam is {payload.get('fam')!r}: the family given is kept"
    assert "roles" not in payload, "roles belong to access tokens"
    families = [read(key_set.signing_key, issuer.issue_refresh_token("user-7"), ISSUER)[1] for _ in "ab"]
    assert all(is_uuid(p.get("fam")) for p in families), "without a family, fam is a new str(uuid4())"
    assert families[0]["fam"] != families[1]["fam"], "two logins got the same family"


def test_tokens_are_fresh(auth, key_set):
    """each token has its own jti; without `now`, iat is the current time"""
    issuer = service(auth, key_set)
    before = int(time.time())
    made = [issuer.issue_access_token("user-7", ["user"]) for _ in range(3)]
    made += [issuer.issue_refresh_token("user-7", family="f") for _ in range(3)]
    after = int(time.time())
    payloads = [jwt.decode(t, options={"verify_signature": False}) for t in made]
    jtis = [p.get("jti") for p in payloads]
    assert len(set(jtis)) == len(jtis), f"jti repeats: {jtis}"
    for payload in payloads:
        assert before <= payload.get("iat", -1) <= after, f"iat {payload.get('iat')} is not now"


# Exercise 3: verifying.


def test_genuine_tokens_verify(auth, key_set):
    """well-formed access and refresh tokens of the newest key verify: decode_token returns their claims"""
    good = claims(roles=["user", "admin"])
    assert decode(auth, key_set, sign(key_set.signing_key, good)) == good
    refresh = claims(aud=ISSUER, roles=DROP, fam="family-1")
    token = sign(key_set.signing_key, refresh, typ=auth.tokens.REFRESH_TOKEN_TYPE)
    assert decode(auth, key_set, token, refresh=True) == refresh
    assert service(auth, key_set).verify_access_token(sign(key_set.signing_key, good))["sub"] == "user-7"


def test_algorithm_is_pinned_to_es256(auth, key_set):
    """alg none, HS256 keyed with the public key, ES384: refused as algorithm_not_allowed"""
    key = key_set.signing_key
    admin = claims(roles=["admin"])
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    p384 = ec.generate_private_key(ec.SECP384R1())
    forged = {
        "alg none, no signature": forge(
            {"alg": "none", "kid": key.kid, "typ": "at+jwt"}, admin, lambda d: b""
        ),
        "HS256 with the public key as its secret": forge(
            {"alg": "HS256", "kid": key.kid, "typ": "at+jwt"},
            admin,
            lambda d: hmac.new(public_pem, d, hashlib.sha256).digest(),
        ),
        "ES384": jwt.encode(admin, p384, algorithm="ES384", headers={"kid": key.kid, "typ": "at+jwt"}),
    }
    for what, token in forged.items():
        assert_refused(auth, key_set, token, "algorithm_not_allowed", what)


def test_audience_and_issuer_are_checked(auth, key_set):
    """another audience: wrong_audience; another issuer: wrong_issuer (signed by the real key)"""
    key = key_set.signing_key
    assert_refused(auth, key_set, sign(key, claims(aud="billing")), "wrong_audience", "aud billing")
    assert_refused(auth, key_set, sign(key, claims(aud=ISSUER)), "wrong_audience", "aud the issuer's")
    assert_refused(auth, key_set, sign(key, claims(iss="staging")), "wrong_issuer", "iss staging")
    refresh = sign(key, claims(roles=DROP, fam="f"), typ=auth.tokens.REFRESH_TOKEN_TYPE)
    assert_refused(
        auth, key_set, refresh, "wrong_audience", "a refresh-typed token for the services' aud", refresh=True
    )


def test_type_is_checked(auth, key_set):
    """a refresh token as access, an access token as refresh, typ JWT or none: wrong_type"""
    key, refresh_type = key_set.signing_key, auth.tokens.REFRESH_TOKEN_TYPE
    # Everything right for an access token but its typ: only the type check can refuse it.
    assert_refused(auth, key_set, sign(key, claims(), typ=refresh_type), "wrong_type", "typ refresh")
    assert_refused(auth, key_set, sign(key, claims(), typ="JWT"), "wrong_type", "typ JWT")
    assert_refused(auth, key_set, sign(key, claims(), typ=DROP), "wrong_type", "no typ")
    as_refresh = sign(key, claims(aud=ISSUER, roles=DROP, fam="f"))  # typ at+jwt, all else a refresh token's
    assert_refused(auth, key_set, as_refresh, "wrong_type", "an access token as refresh", refresh=True)


def test_kid_picks_the_key(auth, key_set):
    """both live keys verify their tokens; a kid naming another key, no key, or no kid is refused"""
    old, new = key_set.keys
    for key in (old, new):
        assert decode(auth, key_set, sign(key, claims()))["sub"] == "user-7", "a live key's token is refused"
    assert_refused(
        auth, key_set, sign(old, claims(), kid=new.kid), "bad_signature", "key 1's signature, key 2's kid"
    )
    attacker = ec.generate_private_key(ec.SECP256R1())
    own = forge(
        {"alg": "ES256", "kid": thumbprint(attacker.public_key()), "typ": "at+jwt"},
        claims(),
        es256_by(attacker),
    )
    assert_refused(auth, key_set, own, "unknown_key", "an attacker's key and kid")
    assert_refused(auth, key_set, sign(new, claims(), kid=DROP), "unknown_key", "no kid")


def test_time_is_checked_with_seconds_of_leeway(auth, key_set):
    """exp 120 s ago: expired; nbf 120 s ahead: not_yet_valid; 3 s off passes with leeway 10, not with 0"""
    key, now = key_set.signing_key, int(time.time())
    late = claims(now - ACCESS_TTL - 120)
    assert_refused(auth, key_set, sign(key, late), "expired", "exp 120 s ago (leeway 10 s)")
    early = claims(nbf=now + 120)
    assert_refused(auth, key_set, sign(key, early), "not_yet_valid", "nbf 120 s ahead (leeway 10 s)")
    just_expired = sign(key, claims(now - ACCESS_TTL - 3))
    assert decode(auth, key_set, just_expired, leeway=10), "exp 3 s ago must pass with leeway 10"
    assert_refused(auth, key_set, just_expired, "expired", "exp 3 s ago with leeway 0", leeway=0)
    almost = sign(key, claims(nbf=now + 3))
    assert decode(auth, key_set, almost, leeway=10), "nbf 3 s ahead must pass with leeway 10"


def test_required_claims(auth, key_set):
    """a token missing exp, iat, nbf, iss, aud, sub or jti is refused as missing_claim"""
    for name in REQUIRED:
        token = sign(key_set.signing_key, claims(**{name: DROP}))
        assert_refused(auth, key_set, token, "missing_claim", f"no {name}")


def test_tampered_and_malformed_tokens(auth, key_set):
    """an edited payload or signature: bad_signature; a token that is not a JWT: malformed"""
    token = sign(key_set.signing_key, claims())
    header, payload, signature = token.split(".")
    edited = b64url(json.dumps(claims(roles=["admin"])).encode())
    assert_refused(auth, key_set, f"{header}.{edited}.{signature}", "bad_signature", "payload edited")
    flipped = b64url(bytes([b64decode(signature)[0] ^ 1]) + b64decode(signature)[1:])
    assert_refused(auth, key_set, f"{header}.{payload}.{flipped}", "bad_signature", "signature edited")
    for what, garbage in {
        "an empty string": "",
        "one part": "abc",
        "header not JSON": f"{b64url(b'not json')}.{payload}.{signature}",
        "header a JSON list": f"{b64url(b'[1, 2]')}.{payload}.{signature}",
        "header not base64url": f"$$$.{payload}.{signature}",
        "None": None,
    }.items():
        assert_refused(auth, key_set, garbage, "malformed", what)
