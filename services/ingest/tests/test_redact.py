"""Redaction: examples of each format, then properties (hypothesis) that PII never survives in any format
or sentence position and that dates, times, amounts and order numbers always do."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxpulse_ingest.redact import Redactor, luhn_valid

REDACTOR = Redactor()
# CXPULSE_HYPOTHESIS_EXAMPLES=5000 for a deeper soak than the default CI run.
PROPERTY = settings(max_examples=int(os.environ.get("CXPULSE_HYPOTHESIS_EXAMPLES", "300")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


def luhn_ok(number: str) -> bool:
    """Independent of the code under test, so the generators stay honest if luhn_valid breaks."""
    doubled = [sum(divmod(int(c) * 2, 10)) if i % 2 else int(c) for i, c in enumerate(reversed(number))]
    return sum(doubled) % 10 == 0


def test_luhn_valid_agrees_with_known_numbers() -> None:
    for good in ("4111111111111111", "378282246310005", "6011111111111117", "5555555555554444"):
        assert luhn_valid(good) and luhn_ok(good)
    for bad in ("4111111111111112", "1234567890123"):
        assert not luhn_valid(bad) and not luhn_ok(bad)


@pytest.mark.parametrize(("text", "expected", "counts"), [
    ("my card is 4111 1111 1111 1111 thanks", "my card is [CARD] thanks", {"CARD": 1}),
    ("4111-1111-1111-1111.", "[CARD].", {"CARD": 1}),
    ("amex 3782.822463.10005 ok", "amex [CARD] ok", {"CARD": 1}),
    ("spoken 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "spoken [CARD]", {"CARD": 1}),
    ("items 2 3 4111 1111 1111 1111 2222", "items 2 3 [CARD] 2222", {"CARD": 1}),
    ("ssn 123-45-6789 or 123 45 6789", "ssn [SSN] or [SSN]", {"SSN": 2}),
    ("write to jane.doe+cx@mail.example.co.uk.", "write to [EMAIL].", {"EMAIL": 1}),
    ("+44 20 7946 0958", "[PHONE]", {"PHONE": 1}),
    ("call (555) 123-4567, or 555-123-4567", "call [PHONE], or [PHONE]", {"PHONE": 2}),
    ("+1 555 123 4567 / 0044 20 7946 0958 / +14155552671", "[PHONE] / [PHONE] / [PHONE]", {"PHONE": 3}),
    ("1-800-555-1234", "[PHONE]", {"PHONE": 1}),
])
def test_examples_are_redacted(text: str, expected: str, counts: dict[str, int]) -> None:
    assert REDACTOR.redact(text) == (expected, counts)


@pytest.mark.parametrize("text", [
    "on 2024-05-01 or 05/01/2024 at 10:30 we charged $1,234.56 for order #A12345 and 123456",
    "order 4111111111111112 is not a card (fails Luhn)",
    "invalid SSN areas 000-12-3456, 666-12-3456 and 900-12-3456",
    "reference 123456789 is not redacted as an SSN",
    "no digits at all, just words",
])
def test_non_pii_survives(text: str) -> None:
    assert REDACTOR.redact(text) == (text, {})


def test_types_can_be_switched_off() -> None:
    only_email = Redactor({"EMAIL"})
    assert only_email.redact("a@b.io 4111 1111 1111 1111") == ("[EMAIL] 4111 1111 1111 1111", {"EMAIL": 1})
    with pytest.raises(ValueError):
        Redactor({"PASSPORT"})


# --- generators -------------------------------------------------------------------------------------

words = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8), max_size=6)
trailing = st.sampled_from(["", ".", ",", "!", "?", ")"])


def sentence(pii: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str]]:
    """(pii, sentence containing it at the start, middle or end)."""
    return st.tuples(words, pii, trailing, words).map(
        lambda t: (t[1], " ".join([*t[0], t[1] + t[2], *t[3]])))


@st.composite
def luhn_cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = [draw(st.integers(1, 9)), *draw(st.lists(st.integers(0, 9), min_size=length - 2, max_size=length - 2))]
    for check in range(10):
        number = "".join(map(str, body)) + str(check)
        if luhn_ok(number):
            break
    style = draw(st.sampled_from(["plain", "spaces", "dashes", "dots", "digit by digit"]))
    if style == "plain":
        return number
    if style == "digit by digit":  # how voice transcripts often render spoken numbers
        return " ".join(number)
    groups = [number[i:i + 4] for i in range(0, len(number), 4)]
    return {"spaces": " ", "dashes": "-", "dots": "."}[style].join(groups)


@st.composite
def ssns(draw: st.DrawFn) -> str:
    area = draw(st.integers(1, 899).filter(lambda a: a != 666))
    group, serial = draw(st.integers(1, 99)), draw(st.integers(1, 9999))
    sep = draw(st.sampled_from(["-", " "]))
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


emails = st.builds(
    lambda local, dom, tld: f"{local}@{dom}.{tld}",
    st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){0,2}", fullmatch=True),
    st.sampled_from(["com", "io", "co.uk", "org", "de"]))


@st.composite
def phones(draw: st.DrawFn) -> str:
    def d(n: int) -> str:
        return "".join(str(draw(st.integers(0, 9))) for _ in range(n))

    area, mid, last = str(draw(st.integers(2, 9))) + d(2), d(3), d(4)
    return draw(st.sampled_from([
        f"({area}) {mid}-{last}", f"{area}-{mid}-{last}", f"{area}.{mid}.{last}", f"+1 {area} {mid} {last}",
        f"+1{area}{mid}{last}", f"+44 20 {d(4)} {d(4)}", f"0044 20 {d(4)} {d(4)}", f"+49 30 {d(8)}",
        f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}", f"+{draw(st.integers(1, 9))}{d(draw(st.integers(8, 13)))}",
    ]))


@PROPERTY
@given(sentence(luhn_cards()))
def test_luhn_cards_never_survive(case: tuple[str, str]) -> None:
    card, text = case
    out, counts = REDACTOR.redact(text)
    assert card not in out and digits(card) not in digits(out)
    assert counts.get("CARD", 0) >= 1


@PROPERTY
@given(sentence(ssns()))
def test_ssns_never_survive(case: tuple[str, str]) -> None:
    ssn, text = case
    out, counts = REDACTOR.redact(text)
    assert ssn not in out and digits(ssn) not in digits(out) and counts == {"SSN": 1}


@PROPERTY
@given(sentence(emails))
def test_emails_never_survive(case: tuple[str, str]) -> None:
    email, text = case
    out, counts = REDACTOR.redact(text)
    assert email not in out and "@" not in out and counts == {"EMAIL": 1}


def test_a_detection_overlapping_an_email_does_not_leave_part_of_it() -> None:
    # Found by hypothesis: an NI-number shape ("aa 000000a") overlaps the e-mail; only the first was redacted.
    out, counts = REDACTOR.redact("aa 000000a@0.com")
    assert "@" not in out and "0.com" not in out and counts == {"EMAIL": 1}


@PROPERTY
@given(sentence(phones()))
def test_phones_never_survive(case: tuple[str, str]) -> None:
    phone, text = case
    out, counts = REDACTOR.redact(text)
    assert phone not in out and digits(phone) not in digits(out) and counts == {"PHONE": 1}


safe = st.one_of(
    st.dates().flatmap(lambda d: st.sampled_from([d.isoformat(), d.strftime("%m/%d/%Y")])),
    st.times().map(lambda t: t.strftime("%H:%M")),
    st.integers(0, 9_999_999).map(lambda c: f"${c // 100:,}.{c % 100:02d}"),
    st.from_regex(r"#[A-Z][0-9]{4,7}", fullmatch=True),
    st.integers(1, 99_999_999).map(str),  # order numbers up to 8 digits
    st.integers(10**12, 10**19 - 1).map(str).filter(lambda n: not luhn_ok(n)),  # long non-Luhn numbers
)


@PROPERTY
@given(st.lists(safe, min_size=1, max_size=4), words)
def test_dates_times_amounts_and_order_numbers_survive(items: list[str], filler: list[str]) -> None:
    text = " and ".join(items) + " " + " ".join(filler)
    assert REDACTOR.redact(text) == (text, {})
