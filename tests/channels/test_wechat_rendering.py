"""The assistant's messages as WeChat text: numbered options, long answers cut."""
import pytest

from bot.channels.wechat.rendering import (
    CHOOSE_PROMPT, MAX_REPLY_BYTES, MORE_POINTER, Option, chosen_option, language_of,
    more_request_language, render, split_for_reply,
)


def test_language_of_is_the_detector_of_the_nlu():
    assert language_of("补办的社保卡需要激活吗") == "zh"
    assert language_of("Does my card need activation?") == "en"
    assert language_of("Is the 社保卡 app free to use?") == "en"  # a few characters in an English sentence
    assert language_of("") == language_of("12345") == "zh"  # says nothing: the default


def test_buttons_become_numbered_options_across_messages():
    rendered = render([
        {"recipient_id": "o", "text": "您是想问以下哪个问题？",
         "buttons": [{"title": "补办后要激活吗", "payload": "/faq_activate"},
                     {"title": "都不是", "payload": "/out_of_scope"}]},
        {"recipient_id": "o", "text": "或者转人工",
         "buttons": [{"title": "转人工", "payload": "/request_human"}]},
    ])
    assert rendered.text == (
        "您是想问以下哪个问题？\n1. 补办后要激活吗\n2. 都不是\n\n或者转人工\n3. 转人工\n" + CHOOSE_PROMPT["zh"]
    )
    assert rendered.options == [
        Option("补办后要激活吗", "/faq_activate"), Option("都不是", "/out_of_scope"), Option("转人工", "/request_human"),
    ]


def test_english_prompt_and_plain_texts():
    rendered = render([{"text": "Did you mean:", "buttons": [{"title": "Activation", "payload": "/a"}]}])
    assert rendered.text == "Did you mean:\n1. Activation\n" + CHOOSE_PROMPT["en"]
    plain = render([{"text": "first"}, {"text": "second"}, {"image": "https://example.org/a.png"}])
    assert plain.text == "first\n\nsecond\n\nhttps://example.org/a.png"
    assert plain.options == []
    assert render([]).text == ""


@pytest.mark.parametrize("reply, picked", [
    ("1", 0), ("2", 1), ("２", 1), (" 3 ", 2), ("3。", 2), ("１", 0),
    ("4", None), ("0", None), ("一", None), ("1 and 2", None), ("", None), ("9" * 5000, None),
])
def test_chosen_option(reply, picked):
    options = [Option("a", "/a"), Option("b", "/b"), Option("c", "/c")]
    assert chosen_option(reply, options) == (None if picked is None else options[picked])
    assert chosen_option(reply, []) is None


@pytest.mark.parametrize("text, language", [
    ("继续", "zh"), ("继续。", "zh"), ("繼續", "zh"), ("more", "en"), ("More", "en"), ("ｍｏｒｅ", "en"),
    ("继续激活", None), ("tell me more", None),
])
def test_more_requests(text, language):
    assert more_request_language(text) == language


def test_short_text_is_one_part():
    assert split_for_reply("需要。补办的卡要重新激活。") == ["需要。补办的卡要重新激活。"]


def test_long_chinese_answer_is_cut_at_sentence_boundaries():
    sentence = "补办社保卡相当于重新制发一张新卡，拿到新卡后要重新激活才能正常使用。"
    text = sentence * 60  # about 6 KB of UTF-8
    parts = split_for_reply(text)
    assert len(parts) >= 4
    for part in parts:
        assert len(part.encode("utf-8")) <= MAX_REPLY_BYTES
    for part in parts[:-1]:
        assert part.endswith(MORE_POINTER["zh"])
        assert part[: -len(MORE_POINTER["zh"])].rstrip().endswith("。")
    assert not parts[-1].endswith(MORE_POINTER["zh"])
    rejoined = "".join(p.replace("\n" + MORE_POINTER["zh"], "") for p in parts)
    assert rejoined == text  # nothing lost, nothing repeated


def test_long_english_answer_cut_at_lines():
    lines = [f"Step {n}: bring your ID card and the loss report to the service centre." for n in range(80)]
    parts = split_for_reply("\n".join(lines))
    assert len(parts) > 1
    assert all(len(p.encode()) <= MAX_REPLY_BYTES for p in parts)
    assert parts[0].endswith("\n" + MORE_POINTER["en"])
    assert parts[0].split("\n")[-2].endswith("centre.")  # a whole line before the pointer
    assert parts[1].startswith("Step ")


def test_text_without_any_boundary_is_still_cut_within_the_limit():
    parts = split_for_reply("社" * 3000)
    assert all(len(p.encode()) <= MAX_REPLY_BYTES for p in parts)
    assert sum(p.count("社") for p in parts) == 3000
