"""Signatures and safe-mode encryption against the public test vectors."""
import json
import time
from pathlib import Path

import pytest

from bot.channels.wechat.crypto import (
    AppIdMismatch, DecryptError, InvalidAESKey, MessageCrypto, SignatureError, TimestampError,
    aes_key_from, check_signature, check_timestamp, signature,
)

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "wechat_test_vectors.json").read_text("utf-8"))
TENCENT_A1, TENCENT_C = VECTORS["msg_crypto"]


@pytest.mark.parametrize("vector", VECTORS["plain_url_signature"], ids=lambda v: v["token"])
def test_url_signature_vectors(vector):
    parts = (vector["token"], vector["timestamp"], vector["nonce"])
    assert signature(*parts) == vector["signature"]
    check_signature(parts, vector["signature"])
    check_signature(parts, vector["signature"].upper())  # hex case does not matter


def test_negative_signature_vector_is_refused():
    vector = VECTORS["plain_url_signature"][0]
    with pytest.raises(SignatureError):
        check_signature((vector["token"], vector["timestamp"], vector["nonce"]), vector["negative_signature"])


@pytest.mark.parametrize("given", [None, "", "0" * 40])
def test_missing_or_wrong_signature_is_refused(given):
    with pytest.raises(SignatureError):
        check_signature(("token", "1", "2"), given)


def test_tencent_official_account_sample_decrypts():
    crypto = MessageCrypto(TENCENT_C["token"], TENCENT_C["encoding_aes_key"], TENCENT_C["appid"])
    assert signature(TENCENT_C["token"], TENCENT_C["timestamp"], TENCENT_C["nonce"]) == TENCENT_C["url_signature_3part"]
    plain = crypto.unpack(TENCENT_C["encrypt"])
    assert plain.random16.decode() == TENCENT_C["expected_random16"]
    assert plain.app_id == TENCENT_C["appid"]
    message = crypto.decrypt_signed(
        TENCENT_C["encrypt"], TENCENT_C["msg_signature"], TENCENT_C["timestamp"], TENCENT_C["nonce"]
    )
    assert message == TENCENT_C["expected_plaintext"]


def test_decrypting_checks_msg_signature_not_the_url_signature():
    crypto = MessageCrypto(TENCENT_C["token"], TENCENT_C["encoding_aes_key"], TENCENT_C["appid"])
    with pytest.raises(SignatureError):
        crypto.decrypt_signed(
            TENCENT_C["encrypt"], TENCENT_C["url_signature_3part"], TENCENT_C["timestamp"], TENCENT_C["nonce"]
        )
    with pytest.raises(SignatureError):
        crypto.decrypt_signed(TENCENT_C["encrypt"], None, TENCENT_C["timestamp"], TENCENT_C["nonce"])


def test_deterministic_encryption_with_the_injected_random_prefix():
    crypto = MessageCrypto(
        TENCENT_A1["token"], TENCENT_A1["encoding_aes_key"], TENCENT_A1["appid"],
        random16=lambda: TENCENT_A1["random16"].encode("ascii"),
    )
    assert crypto.encrypt(TENCENT_A1["plaintext"]) == TENCENT_A1["encrypt"]
    assert crypto.decrypt(TENCENT_A1["encrypt"]) == TENCENT_A1["plaintext"]


def test_signed_round_trip_with_random_prefix():
    crypto = MessageCrypto("token", TENCENT_A1["encoding_aes_key"], "wx0123456789abcdef")
    first, signed = crypto.encrypt_signed("回复<xml>内容</xml>", "1700000000", "42")
    second, _ = crypto.encrypt_signed("回复<xml>内容</xml>", "1700000000", "42")
    assert first != second  # a fresh random prefix each time
    assert signed == signature("token", "1700000000", "42", first)
    assert crypto.decrypt_signed(first, signed, "1700000000", "42") == "回复<xml>内容</xml>"


def test_a_message_for_another_appid_is_refused():
    ours = MessageCrypto(TENCENT_C["token"], TENCENT_C["encoding_aes_key"], "wx_not_the_sample")
    with pytest.raises(AppIdMismatch):
        ours.decrypt(TENCENT_C["encrypt"])


def test_a_message_under_another_key_cannot_be_decrypted():
    other_key = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
    theirs = MessageCrypto("t", other_key, TENCENT_A1["appid"])
    ours = MessageCrypto("t", TENCENT_A1["encoding_aes_key"], TENCENT_A1["appid"])
    with pytest.raises((DecryptError, AppIdMismatch)):
        ours.decrypt(theirs.encrypt("<xml/>"))


@pytest.mark.parametrize("encrypted", ["not base64!", "", "QUJD", "A" * 44])
def test_garbage_ciphertext_is_a_decrypt_error(encrypted):
    crypto = MessageCrypto("t", TENCENT_A1["encoding_aes_key"], "wx1")
    with pytest.raises(DecryptError):
        crypto.decrypt(encrypted)


def test_tencents_non_canonical_sample_key_is_accepted():
    # Its last character carries bits a canonical encoder would leave zero.
    assert len(aes_key_from(TENCENT_A1["encoding_aes_key"])) == 32


@pytest.mark.parametrize("key", [
    "", "short", TENCENT_A1["encoding_aes_key"] + "H", TENCENT_A1["encoding_aes_key"][:-1] + "=",
    TENCENT_A1["encoding_aes_key"][:-1] + "-", "我" * 43,
])
def test_bad_aes_keys_are_refused(key):
    with pytest.raises(InvalidAESKey):
        MessageCrypto("t", key, "wx1")


def test_timestamps_more_than_five_minutes_away_are_refused():
    now = time.time()
    assert check_timestamp(str(int(now) - 299), now) == int(now) - 299
    check_timestamp(str(int(now) + 299), now)
    for bad in (str(int(now) - 301), str(int(now) + 301), "", None, "yesterday"):
        with pytest.raises(TimestampError):
            check_timestamp(bad, now)
