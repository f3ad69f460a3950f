"""HS256 JSON Web Tokens for MicroPython, the part of PyJWT's API that microdot.session
uses: encode(payload, key, algorithm='HS256') -> str, decode(token, key, algorithms=[...])
-> dict (checks the signature and an `exp` claim), exceptions.PyJWTError. Written for
running microdot's tests (microdot's own MicroPython runs bring a jwt module of their
own, which its sdist does not ship); CPython runs use PyJWT itself."""
import binascii
import hashlib
import json
import time


class PyJWTError(Exception):
    pass


class InvalidTokenError(PyJWTError):
    pass


class DecodeError(InvalidTokenError):
    pass


class InvalidSignatureError(DecodeError):
    pass


class ExpiredSignatureError(InvalidTokenError):
    pass


class exceptions:
    PyJWTError = PyJWTError
    InvalidTokenError = InvalidTokenError
    DecodeError = DecodeError
    InvalidSignatureError = InvalidSignatureError
    ExpiredSignatureError = ExpiredSignatureError


def _bytes(s):
    return s.encode() if isinstance(s, str) else bytes(s)


def _hmac_sha256(key, msg):
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key + b"\x00" * (block - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(msg)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def _b64e(data):
    s = binascii.b2a_base64(data).strip()
    return s.replace(b"+", b"-").replace(b"/", b"_").rstrip(b"=")


def _b64d(data):
    data = _bytes(data).replace(b"-", b"+").replace(b"_", b"/")
    data += b"=" * (-len(data) % 4)
    try:
        return binascii.a2b_base64(data)
    except Exception:
        raise DecodeError("invalid base64")


def _json(obj):
    return _bytes(json.dumps(obj))


def encode(payload, key, algorithm="HS256"):
    if algorithm != "HS256":
        raise NotImplementedError("only HS256")
    signing_input = _b64e(_json({"alg": "HS256", "typ": "JWT"})) + b"." + _b64e(_json(payload))
    sig = _hmac_sha256(_bytes(key), signing_input)
    return (signing_input + b"." + _b64e(sig)).decode()


def decode(token, key, algorithms=None):
    parts = _bytes(token).split(b".")
    if len(parts) != 3:
        raise DecodeError("not enough segments")
    try:
        header = json.loads(_b64d(parts[0]))
        payload = json.loads(_b64d(parts[1]))
    except ValueError:
        raise DecodeError("invalid segment")
    if header.get("alg") != "HS256" or (algorithms is not None and "HS256" not in algorithms):
        raise InvalidTokenError("algorithm not allowed")
    if _hmac_sha256(_bytes(key), parts[0] + b"." + parts[1]) != _b64d(parts[2]):
        raise InvalidSignatureError("signature verification failed")
    if isinstance(payload, dict) and "exp" in payload and payload["exp"] < time.time():
        raise ExpiredSignatureError("signature has expired")
    return payload
