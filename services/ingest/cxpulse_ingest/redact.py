"""PII redaction -> typed placeholders ([CARD], [SSN], [EMAIL], [PHONE], [CVV], [IBAN], [NINO], [DOB], [NAME],
[ADDRESS]), in time linear in the text.

How: the text is first *normalized for detection only* (full-width digits -> ASCII, spoken digits "four one one"
-> "411", "double oh" -> "00", digits dictated one by one "4 1 1 1" -> "4111"), keeping a map back to the original
positions; every detector runs on the normalized text; the spans found are replaced in the *original* text, so
words that hold no PII are never rewritten. Detectors:
- CARD: 13-19 digit windows of a digit run (separators: space, . - / _ , or " - ", one kind per window) that pass
  Luhn; a card split over two consecutive turns of one contact (see `carry`), and a card's trailing fragment (4+
  digits at the end of a turn that speaks of a card).
- SSN: NNN-NN-NNNN / NNN NN NNNN (areas 000, 666, 9xx never issued); 9 bare digits only after "social security",
  "SSN" or "social". CVV: 3-4 digits after "CVV", "security code" and kin, or right after a card.
- EMAIL, spoken e-mails ("jane dot doe at example dot com"); PHONE: international (+ or 00), NANP, UK national
  (0 + 9-10 digits), extensions ("ext. 204"); IBAN (mod-97 checked); NINO (UK National Insurance number); DOB
  (a full date after "born", "date of birth", "DOB", "birthday"); NAME (after "my name is", "this is", "I'm" ...);
  ADDRESS (number + street name + street type, UK postcodes).
Deliberately NOT redacted (false positives on order and account numbers): bare 9-digit runs without SSN context,
bare digit runs shorter than a phone number, dates without a birth context.

Every pattern is anchored at a word or digit-run start and has bounded repetition, and the card-window search looks
at <= 19 digits per start, so the cost is linear in the text (`make bench`, section ingest: redaction MB/s on
worst-case inputs)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ALL_TYPES = frozenset({"CARD", "SSN", "EMAIL", "PHONE", "CVV", "IBAN", "NINO", "DOB", "NAME", "ADDRESS"})
_CARD_MIN, _CARD_MAX = 13, 19
_PHONE_MIN, _PHONE_MAX = 9, 15  # E.164 allows at most 15 digits
_CARRY_CONTACTS = 50_000  # contacts whose last turn's trailing digits are remembered (split cards)

# -- normalization (detection only) ---------------------------------------------------------------------------
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_WORD_DIGITS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_NUMBER_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
# A run of >= 2 spoken digits ("double"/"triple" repeat the next one), joined by spaces, commas or hyphens; a lone
# "one" or "oh" in a sentence is left alone.
_SPOKEN_RUN = re.compile(rf"(?i)\b(?:(?:double|triple)\s+)?{_NUMBER_WORD}"
                         rf"(?:(?:\s*,?\s+|-)(?:(?:double|triple)\s+)?{_NUMBER_WORD}\b)+\b")
_NUMBER_CUE = re.compile("zero|oh|one|two|three|four|five|six|seven|eight|nine")  # cheap gate, on lower case
_SPOKEN_TOKEN = re.compile(rf"(?i)(double|triple)\s+({_NUMBER_WORD})|({_NUMBER_WORD})")
# Digits dictated one at a time ("4 1 1 1 1 ..."): four or more single digits separated by single spaces.
_DICTATED = re.compile(r"(?<![0-9])[0-9](?: [0-9](?![0-9])){3,}")
_ANY_DIGIT = re.compile(r"[0-9]")


def _normalize(text: str) -> tuple[str, list[int] | None]:
    """(text for detection, map from its positions to the original's; None when they are the same)."""
    text = text.translate(_FULLWIDTH)  # same length: positions do not move
    pieces: list[tuple[int, int, str, list[int]]] = []  # (orig start, orig end, replacement, orig pos per char)
    lower = text.lower()
    spoken = _SPOKEN_RUN.finditer(text) if _NUMBER_CUE.search(lower) else ()
    for m in spoken:
        digits: list[str] = []
        where: list[int] = []
        for t in _SPOKEN_TOKEN.finditer(m.group(0)):
            if t.group(1):
                word = _WORD_DIGITS[t.group(2).lower()] * (2 if t.group(1).lower() == "double" else 3)
            else:
                word = _WORD_DIGITS[t.group(3).lower()]
            digits.append(word)
            where.extend([m.start() + t.start()] * len(word))
        pieces.append((m.start(), m.end(), "".join(digits), where))
    if not pieces and (not _ANY_DIGIT.search(text) or not _DICTATED.search(text)):
        return text, None
    back = list(range(len(text) + 1))
    if pieces:
        text, back = _apply(text, pieces, back)
    dictated = [(m.start(), m.end(), m.group(0).replace(" ", ""), list(range(m.start(), m.end(), 2)))
                for m in _DICTATED.finditer(text)]
    if dictated:
        text, back = _apply(text, dictated, back)
    return text, back


def _apply(text: str, pieces: list[tuple[int, int, str, list[int]]], back: list[int]) -> tuple[str, list[int]]:
    """Replace sorted, non-overlapping spans of `text`; `back` maps text positions to the original's. Returns the
    new text and its map: each replacement character maps to where its source token began, the position after a
    replacement to the end of what it replaced."""
    out: list[str] = []
    new_back: list[int] = []
    pos = 0
    for start, end, replacement, where in pieces:
        out.append(text[pos:start])
        new_back.extend(back[pos:start])
        out.append(replacement)
        new_back.extend(back[w] for w in where)
        pos = end
    out.append(text[pos:])
    new_back.extend(back[pos:])
    return "".join(out), new_back


# -- detectors ------------------------------------------------------------------------------------------------
_SEP = r"(?:\s-\s|[ .\-/_]|,\s?|\s{2,3})"
_CARD_RUN = re.compile(rf"(?<![0-9])[0-9](?:{_SEP}?[0-9]){{12,}}(?![0-9])")
_DIGIT_GROUP = re.compile(r"[0-9]+")
_SSN = re.compile(r"(?<![0-9-])(?!000|666|9)[0-9]{3}(?P<sep>[- ])(?!00)[0-9]{2}(?P=sep)(?!0000)[0-9]{4}(?![0-9-])")
_SSN_CONTEXT = re.compile(r"(?i)\b(?:social(?:\s+security)?(?:\s+(?:number|no\.?|#))?|ssn|s\.s\.n\.?)\b\D{0,25}?"
                          r"(?<![0-9])((?!000|666|9)[0-9]{3}[- ]?(?!00)[0-9]{2}[- ]?(?!0000)[0-9]{4})(?![0-9])")
_CVV_CUE = re.compile("cv|csc|security|verification|digits on the back")
_CVV_CONTEXT = re.compile(r"(?i)\b(?:cvv2?|cvc2?|cv2|csc|security\s+code|card\s+verification(?:\s+(?:code|value))?"
                          r"|(?:three|3|four|4)\s+digits\s+on\s+the\s+back)\b\D{0,20}?(?<![0-9])([0-9]{3,4})(?![0-9])")
# A card's CVV read out right after it: a few words ("and", "code", "security") between, then 3-4 digits.
_CVV_AFTER_CARD = re.compile(r"[^0-9A-Za-z]{0,5}[A-Za-z][^0-9]{0,20}?(?<![0-9/])([0-9]{3,4})(?![0-9/])")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}"
                    r"\.[A-Za-z]{2,24}(?![A-Za-z0-9-])")
_TLDS = r"(?:com|org|net|edu|gov|io|co|uk|de|fr|es|it|nl|info|biz|us|ca|au|ie|me)"
_SPOKEN_EMAIL = re.compile(rf"(?i)(?<![\w.])[a-z0-9]+(?:\s+(?:dot|underscore|dash|hyphen)\s+[a-z0-9]+){{0,4}}"
                           rf"\s+(?:at|at\s+sign)\s+[a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+){{0,3}}\s+dot\s+{_TLDS}\b")
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:"
    r"(?:\+|00(?=[1-9]))[0-9]{1,3}(?:[ .-]?(?:\([0-9]{1,4}\)|[0-9]{1,4})){2,6}"  # +44 20 7946 0958, E.164
    r"|(?:\+?1[ .-]?)?(?:\([0-9]{3}\)[ .-]?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}"  # (555) 123-4567
    r"|\(0[0-9]{2,4}\)\s?[0-9]{3,4}[ -]?[0-9]{3,4}"  # (020) 7946 0958
    r"|0[1-9][0-9]{1,4}[ -]?[0-9]{3,4}[ -]?[0-9]{3,4}"  # UK national: 07700 900123, 020 7946 0958
    r")(?![0-9])")
_EXTENSION = re.compile(r"(?i)\b(?:ext|extension|extn)\b\.?\s*(?:#|no\.?|number)?\s*[0-9]{2,6}(?![0-9])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_NINO = re.compile(r"(?i)(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
                   r" ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D](?![A-Za-z0-9])")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.?"
_DATE = (rf"(?:[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-](?:19|20)?[0-9]{{2}}|(?:19|20)[0-9]{{2}}-[0-9]{{1,2}}-[0-9]{{1,2}}"
         rf"|[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(?:19|20)[0-9]{{2}}"
         rf"|{_MONTH}\s+[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)[0-9]{{2}})")
_DOB_CUE = re.compile(r"born|birth|dob|d\.o\.b")
_DOB = re.compile(rf"(?i)\b(?:born|birth\s*day|birth|d\.?o\.?b\.?)\b[^0-9]{{0,25}}?({_DATE})(?![0-9])")
_NOT_NAMES = ("sorry", "calling", "not", "just", "so", "very", "really", "happy", "here", "going", "afraid", "glad",
              "trying", "still", "looking", "interested", "the", "a", "an", "about", "fine", "good", "ok", "okay",
              "frustrated", "upset", "done", "sure", "on", "in", "with", "from", "unhappy", "angry", "calling")
_NAME_CUE = re.compile("name|this is|i am|i'm|speaking with|it's")  # cheap gate, on lower case
_NAME = re.compile(r"(?i:\b(?:my\s+name\s+is|my\s+name's|name's|this\s+is|i\s+am|i'm|speaking\s+with|it's)\s+)"
                   rf"(?!(?i:{'|'.join(_NOT_NAMES)})\b)"
                   r"([A-Z][a-z'\-]{1,20}(?:\s+[A-Z][a-z'\-]{1,20}){0,2})\b")
_STREET_TYPES = (r"(?:(?i:street|road|avenue|lane|drive|boulevard|court|close|crescent|terrace|gardens|grove|square"
                 r"|parkway|highway|mews)|(?:St|Rd|Ave|Ln|Dr|Blvd|Ct|Pl|Sq|Pkwy|Hwy)\b\.?)")
_ADDRESS = re.compile(rf"(?<![0-9A-Za-z/.:\-])[0-9]{{1,5}}[A-Za-z]?\s+(?:[A-Za-z][A-Za-z'\-]+\s+){{1,3}}"
                      rf"{_STREET_TYPES}\b"
                      r"|(?<![A-Za-z0-9])[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])")
_CARD_WORDS = re.compile(r"(?i)\b(?:card|credit|debit|visa|mastercard|amex|american\s+express|discover|pan)\b")
_TRAILING_DIGITS = re.compile(rf"(?<![0-9])[0-9](?:{_SEP}?[0-9]){{3,17}}[\s.,!?]*$")
_LEADING_DIGITS = re.compile(rf"^\s*([0-9](?:{_SEP}?[0-9]){{0,17}})(?![0-9])")


_DIGIT_BYTES = b"0123456789"


def _digit_count(text: str) -> int:
    # bytes.translate(None, delete) runs in C over the whole text: far cheaper than counting in Python.
    encoded = text.encode("utf-8", "surrogatepass")
    return len(encoded) - len(encoded.translate(None, _DIGIT_BYTES))


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str


def _merge_overlapping(spans: list[_Span]) -> list[_Span]:
    """Overlapping detections become one span covering all of them, named after its longest detection. Keeping
    only the first would let the rest of a longer one through ("aa 000000a@0.com": an NI-number shape overlaps the
    e-mail; redacting the NI number alone left "@0.com")."""
    merged: list[_Span] = []
    longest: list[int] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            kind = span.kind if span.end - span.start > longest[-1] else last.kind
            longest[-1] = max(longest[-1], span.end - span.start)
            merged[-1] = _Span(last.start, max(last.end, span.end), kind)
        else:
            merged.append(span)
            longest.append(span.end - span.start)
    return merged


class Redactor:
    def __init__(self, types: Iterable[str] = ALL_TYPES) -> None:
        self.types = frozenset(types)
        unknown = self.types - ALL_TYPES
        if unknown:
            raise ValueError(f"unknown redaction types {sorted(unknown)}; known: {sorted(ALL_TYPES)}")
        # contact -> the digits a turn ended with (a card may be read out over two turns); memory only, bounded.
        self._carry: OrderedDict[str, str] = OrderedDict()
        # Every detector but EMAIL and NAME needs digits (after normalization): these need at least 6 (an NI number;
        # SSNs and phones have 9+, cards 13+); DOB, CVV, extensions and addresses gate on their own cue words.
        detectors: list[tuple[str, Callable[[str, list[_Span]], None]]] = [
            ("IBAN", self._ibans), ("CARD", self._cards), ("SSN", self._ssns), ("NINO", self._ninos),
            ("PHONE", self._phones)]
        self._many_digit_detectors = [detect for kind, detect in detectors if kind in self.types]
        cued: list[tuple[str, Callable[[str, list[_Span]], None]]] = [
            ("DOB", self._dobs), ("PHONE", self._extensions), ("CVV", self._cvvs), ("ADDRESS", self._addresses)]
        self._digit_detectors = [detect for kind, detect in cued if kind in self.types]
        self._word_detectors = [detect for kind, detect in (("EMAIL", self._emails), ("NAME", self._names))
                                if kind in self.types]

    def redact(self, text: str, carry: str | None = None) -> tuple[str, dict[str, int]]:
        """The text with PII replaced by typed placeholders, and how many of each were inserted. `carry` (a contact
        id) links consecutive turns of one contact, so a card number split across them is caught."""
        if not self.types or not text:
            return text, {}
        norm, back = _normalize(text)
        spans: list[_Span] = []
        for detect in self._word_detectors:
            detect(norm, spans)
        if _ANY_DIGIT.search(norm):
            if _digit_count(norm) >= 6:
                for detect in self._many_digit_detectors:
                    detect(norm, spans)
            for detect in self._digit_detectors:
                detect(norm, spans)
            if carry is not None and "CARD" in self.types:
                self._split_card(norm, spans, carry)
        elif carry is not None:
            self._carry.pop(carry, None)  # a turn without digits ends any card being read out
        if not spans:
            return text, {}
        return self._replace(text, norm, back, spans)

    # -- the replacement ----------------------------------------------------------------------------------
    @staticmethod
    def _replace(text: str, norm: str, back: list[int] | None, spans: list[_Span]) -> tuple[str, dict[str, int]]:
        out: list[str] = []
        counts: dict[str, int] = {}
        pos = 0  # in the original text
        for span in _merge_overlapping(spans):
            start, end = (back[span.start], back[span.end]) if back is not None else (span.start, span.end)
            if start < pos:
                continue
            out.append(text[pos:start])
            out.append(f"[{span.kind}]")
            counts[span.kind] = counts.get(span.kind, 0) + 1
            pos = end
        out.append(text[pos:])
        return "".join(out), counts

    # -- detectors (each appends spans in normalized coordinates) ---------------------------------------------
    def _emails(self, norm: str, spans: list[_Span]) -> None:
        if "@" in norm:
            spans.extend(_Span(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(norm))
        if " dot " in norm.lower():
            spans.extend(_Span(m.start(), m.end(), "EMAIL") for m in _SPOKEN_EMAIL.finditer(norm))

    def _ibans(self, norm: str, spans: list[_Span]) -> None:
        for m in _IBAN.finditer(norm):
            candidate = m.group(0)
            # The match may run into a following word in capitals or digits: try shorter cuts at group ends.
            for cut in range(len(candidate), 14, -1):
                if (cut == len(candidate) or candidate[cut] == " ") and _iban_valid(candidate[:cut]):
                    spans.append(_Span(m.start(), m.start() + cut, "IBAN"))
                    break

    def _cards(self, norm: str, spans: list[_Span]) -> None:
        for m in _CARD_RUN.finditer(norm):
            for start, end in _card_windows(m.group(0)):
                spans.append(_Span(m.start() + start, m.start() + end, "CARD"))
                if "CVV" in self.types:
                    after = _CVV_AFTER_CARD.match(norm, m.start() + end)
                    if after:
                        spans.append(_Span(after.start(1), after.end(1), "CVV"))
        if _CARD_WORDS.search(norm):  # a card read out only in part in this turn: its trailing fragment
            m = _TRAILING_DIGITS.search(norm)
            if m:
                digits = re.sub(r"[^0-9]", "", m.group(0))
                if 4 <= len(digits) < _CARD_MIN:
                    spans.append(_Span(m.start(), m.start() + len(m.group(0).rstrip(" .,!?\t\n")), "CARD"))

    def _split_card(self, norm: str, spans: list[_Span], contact: str) -> None:
        previous = self._carry.pop(contact, "")
        lead = _LEADING_DIGITS.match(norm) if previous else None
        if previous and lead:
            digits = re.sub(r"[^0-9]", "", lead.group(1))
            joined = previous + digits
            for cut in range(len(joined), _CARD_MIN - 1, -1):
                if cut <= _CARD_MAX and cut > len(previous) and luhn_valid(joined[:cut]):
                    spans.append(_Span(lead.start(1), lead.end(1), "CARD"))
                    break
        ends_in_digit = norm.rstrip(" .,!?\t\n")[-1:].isdigit()
        trail = _TRAILING_DIGITS.search(norm) if ends_in_digit else None
        if trail:
            self._carry[contact] = re.sub(r"[^0-9]", "", trail.group(0))[-(_CARD_MAX - 1):]
            if len(self._carry) > _CARRY_CONTACTS:
                self._carry.popitem(last=False)

    def _ssns(self, norm: str, spans: list[_Span]) -> None:
        spans.extend(_Span(m.start(), m.end(), "SSN") for m in _SSN.finditer(norm))
        for m in _SSN_CONTEXT.finditer(norm):
            spans.append(_Span(m.start(1), m.end(1), "SSN"))

    def _ninos(self, norm: str, spans: list[_Span]) -> None:
        spans.extend(_Span(m.start(), m.end(), "NINO") for m in _NINO.finditer(norm))

    def _dobs(self, norm: str, spans: list[_Span]) -> None:
        lower = norm.lower()
        if not _DOB_CUE.search(lower):
            return
        spans.extend(_Span(m.start(1), m.end(1), "DOB") for m in _DOB.finditer(norm))

    def _phones(self, norm: str, spans: list[_Span]) -> None:
        for m in _PHONE.finditer(norm):
            n = sum(ch.isdigit() for ch in m.group(0))
            if _PHONE_MIN <= n <= _PHONE_MAX:
                spans.append(_Span(m.start(), m.end(), "PHONE"))

    def _extensions(self, norm: str, spans: list[_Span]) -> None:
        if "ext" in norm.lower():
            spans.extend(_Span(m.start(), m.end(), "PHONE") for m in _EXTENSION.finditer(norm))

    def _cvvs(self, norm: str, spans: list[_Span]) -> None:
        lower = norm.lower()
        if not _CVV_CUE.search(lower):
            return
        spans.extend(_Span(m.start(1), m.end(1), "CVV") for m in _CVV_CONTEXT.finditer(norm))

    def _addresses(self, norm: str, spans: list[_Span]) -> None:
        spans.extend(_Span(m.start(), m.end(), "ADDRESS") for m in _ADDRESS.finditer(norm))

    def _names(self, norm: str, spans: list[_Span]) -> None:
        lower = norm.lower()
        if not _NAME_CUE.search(lower):
            return
        spans.extend(_Span(m.start(1), m.end(1), "NAME") for m in _NAME.finditer(norm))


def _card_windows(run: str) -> list[tuple[int, int]]:
    """Character spans of card numbers inside a digit run: windows of whole digit groups with 13-19 digits, one
    kind of separator, Luhn-valid; leftmost-longest, non-overlapping. Linear: per start group only the ends with
    13-19 digits are tried (found by bisection), each window's Luhn sum in O(1) from prefix sums."""
    groups = [(m.start(), m.end()) for m in _DIGIT_GROUP.finditer(run)]
    n = len(groups)
    digits = "".join(run[a:b] for a, b in groups)
    first_digit = [0] * (n + 1)  # digit index where group g starts; first_digit[n] = total digits
    for g, (a, b) in enumerate(groups):
        first_digit[g + 1] = first_digit[g] + (b - a)
    # luhn_prefix[p][k]: sum over digits i < k of (the digit if i % 2 == p else its Luhn double). In a window ending
    # at digit e - 1, the digits at even distance from the end are the plain ones, i.e. those with i % 2 == (e-1) % 2.
    luhn_prefix = ([0] * (len(digits) + 1), [0] * (len(digits) + 1))
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        doubled = d * 2 - 9 if d > 4 else d * 2
        for p in (0, 1):
            luhn_prefix[p][i + 1] = luhn_prefix[p][i] + (d if i % 2 == p else doubled)
    # same_sep_until[g]: the last group reachable from g with every separator in between equal.
    gaps = [run[groups[g][1]:groups[g + 1][0]] for g in range(n - 1)]
    same_sep_until = list(range(n))
    for g in range(n - 2, -1, -1):
        same_sep_until[g] = same_sep_until[g + 1] if g + 1 < n - 1 and gaps[g] == gaps[g + 1] else g + 1
    found: list[tuple[int, int]] = []
    g = 0
    while g < n:
        if run[groups[g][0]] == "0":  # no card number starts with 0; "0044 20 ..." is a phone number
            g += 1
            continue
        lo_digit = first_digit[g]
        last_group = same_sep_until[g]
        # Candidate end groups: those whose end leaves 13..19 digits in the window.
        lo = bisect_left(first_digit, lo_digit + _CARD_MIN, g + 1, last_group + 2)
        hi = bisect_right(first_digit, lo_digit + _CARD_MAX, g + 1, last_group + 2)
        best = None
        for end_group in range(hi - 1, lo - 1, -1):  # longest first
            e = first_digit[end_group]
            p = (e - 1) % 2
            if (luhn_prefix[p][e] - luhn_prefix[p][lo_digit]) % 10 == 0:
                best = end_group - 1
                break
        if best is None:
            g += 1
            continue
        found.append((groups[g][0], groups[best][1]))
        g = best + 1
    return found
