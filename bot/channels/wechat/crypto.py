"""WeChat Official Account signatures and safe-mode (AES) message encryption.

Safe mode, as Tencent's WXBizMsgCrypt defines it: AES-256-CBC with
key = base64decode(EncodingAESKey + "="), IV = the key's first 16 bytes,
PKCS#7 padding to 32-byte blocks, and the plaintext
random16 + 4-byte big-endian length + message + appid. The signature of an
encrypted message is sha1 over the sorted [token, timestamp, nonce, Encrypt]
(Encrypt exactly as received); the URL signature is sha1 over the sorted
[token, timestamp, nonce].
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import string
import struct
import time
from typing import Callable, NamedTuple, Optional, Tuple

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_SIZE = 32  # WeChat pads to 32 bytes, not AES's 16
MAX_CLOCK_SKEW_SECONDS = 300
_AES_KEY_PATTERN = re.compile(r"[A-Za-z0-9+/]{43}")
_RANDOM_ALPHABET = string.ascii_letters + string.digits


class WeChatCryptoError(Exception):
    """A request or message that fails WeChat's checks (`reason` is safe to log and show)."""

    reason = "invalid WeChat request"

    def __init__(self, reason: Optional[str] = None) -> None:
        super().__init__(reason or self.reason)
        self.reason = reason or self.reason


class SignatureError(WeChatCryptoError):
    reason = "bad or missing signature"


class TimestampError(WeChatCryptoError):
    reason = "timestamp missing or outside the allowed five minutes"


class DecryptError(WeChatCryptoError):
    reason = "message cannot be decrypted"


class AppIdMismatch(WeChatCryptoError):
    reason = "message is for another AppID"


class InvalidAESKey(WeChatCryptoError):
    reason = "EncodingAESKey must be 43 characters of A-Z, a-z, 0-9, + and /"


def signature(*parts: str) -> str:
    """sha1 of the parts sorted as strings and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check_signature(expected_parts: Tuple[str, ...], given: Optional[str]) -> None:
    """Raises SignatureError unless `given` is the signature of the parts."""
    if not given or not hmac.compare_digest(signature(*expected_parts), given.strip().lower()):
        raise SignatureError()


def check_timestamp(timestamp: Optional[str], now: Optional[float] = None) -> int:
    """The timestamp as an int; TimestampError if missing, malformed, or more
    than five minutes away from now (either way: a replay or a wrong clock)."""
    try:
        value = int(timestamp or "")
    except ValueError:
        raise TimestampError() from None
    now = time.time() if now is None else now
    if abs(now - value) > MAX_CLOCK_SKEW_SECONDS:
        raise TimestampError()
    return value


def aes_key_from(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key. Tencent's sample key is non-canonical base64 (its
    last character has unused low bits set), so validate length and alphabet
    and decode leniently rather than insisting on a base64 round trip."""
    if not isinstance(encoding_aes_key, str) or not _AES_KEY_PATTERN.fullmatch(encoding_aes_key):
        raise InvalidAESKey()
    return base64.b64decode(encoding_aes_key + "=")


def random_ascii16() -> bytes:
    return "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(16)).encode("ascii")


def _pkcs7_pad(data: bytes) -> bytes:
    amount = BLOCK_SIZE - len(data) % BLOCK_SIZE
    return data + bytes([amount]) * amount


def _pkcs7_unpad(data: bytes) -> bytes:
    amount = data[-1] if data else 0
    if not 1 <= amount <= BLOCK_SIZE or data[-amount:] != bytes([amount]) * amount:
        raise DecryptError()
    return data[:-amount]


class Plaintext(NamedTuple):
    random16: bytes
    message: str
    app_id: str


class MessageCrypto:
    """Encrypts, decrypts and signs safe-mode messages of one Official Account."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        app_id: str,
        random16: Callable[[], bytes] = random_ascii16,
    ) -> None:
        self.token = token
        self.app_id = app_id
        self._key = aes_key_from(encoding_aes_key)
        self._random16 = random16

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, message: str) -> str:
        """Base64 ciphertext of `message` (what goes into <Encrypt>)."""
        prefix = self._random16()
        if len(prefix) != 16:
            raise ValueError("random16 must return 16 bytes")
        body = message.encode("utf-8")
        plain = prefix + struct.pack(">I", len(body)) + body + self.app_id.encode("utf-8")
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(_pkcs7_pad(plain)) + encryptor.finalize()).decode("ascii")

    def unpack(self, encrypted: str) -> Plaintext:
        """Decrypts <Encrypt> into its three parts, without checking the AppID."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptError() from None
        if not data or len(data) % 16:
            raise DecryptError()
        decryptor = self._cipher().decryptor()
        plain = _pkcs7_unpad(decryptor.update(data) + decryptor.finalize())
        if len(plain) < 20:
            raise DecryptError()
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise DecryptError()
        try:
            return Plaintext(plain[:16], plain[20:20 + length].decode("utf-8"), plain[20 + length:].decode("utf-8"))
        except UnicodeDecodeError:
            raise DecryptError() from None

    def decrypt(self, encrypted: str) -> str:
        """The message inside <Encrypt>; DecryptError, or AppIdMismatch if it is not ours."""
        plain = self.unpack(encrypted)
        if not hmac.compare_digest(plain.app_id.encode("utf-8"), self.app_id.encode("utf-8")):
            raise AppIdMismatch()
        return plain.message

    def decrypt_signed(self, encrypted: str, msg_signature: Optional[str], timestamp: str, nonce: str) -> str:
        """Checks msg_signature over the Encrypt text as received, then decrypts."""
        check_signature((self.token, timestamp, nonce, encrypted), msg_signature)
        return self.decrypt(encrypted)

    def encrypt_signed(self, message: str, timestamp: str, nonce: str) -> Tuple[str, str]:
        """(Encrypt, MsgSignature) for a reply."""
        encrypted = self.encrypt(message)
        return encrypted, signature(self.token, timestamp, nonce, encrypted)
