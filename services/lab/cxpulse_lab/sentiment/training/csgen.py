"""Deterministic generator of the synthetic contact-center training corpus.

Composition: template (label + emotions) x industry domain x recursive slot fillers x surface style
(chat, voice transcript, tweet, email, shouting). Whole templates are held out for the dev split so dev
measures generalisation to unseen phrasings, not memorised ones.

    python -m cxpulse_lab.sentiment.training.csgen --out services/lab/data/sentiment/cs_synth/cs_synth.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from .cs_lexicon import DOMAINS, GLOBAL, TEMPLATES

SLOT = re.compile(r"\{(\w+)\}")
BRANDS = {"airline": "SkyJet", "telecom": "NetCo", "bank": "FirstBank", "ecommerce": "ShopNow",
          "utilities": "PowerHome", "insurance": "SafeCover", "healthcare_billing": "MedBill", "software": "AppDesk"}
FILLERS = ["um", "uh", "so", "yeah", "like", "you know", "I mean", "okay so"]
EMOJI = {"negative": ["😡", "🙄", "😤", "👎", "#fail", "#customerservice"], "neutral": ["", "?", "#help"],
         "positive": ["🙏", "😊", "👍", "#thankyou", "❤️"]}
ABBREV = [(r"\byou\b", "u"), (r"\bplease\b", "pls"), (r"\bhours\b", "hrs"), (r"\bthanks\b", "thx"),
          (r"\bminutes\b", "mins"), (r"\bbecause\b", "bc")]
DEV_EVERY = 5  # every 5th template (by index) is dev-only


def fill(pattern: str, domain: dict[str, list[str]], rng: random.Random, depth: int = 0) -> str:
    """Replace each {slot} with a random filler (domain first, then global), recursively."""
    def pick(m: re.Match[str]) -> str:
        options = domain.get(m.group(1)) or GLOBAL[m.group(1)]
        return fill(rng.choice(options), domain, rng, depth + 1) if depth < 4 else rng.choice(options)
    return SLOT.sub(pick, pattern)


def stylise(text: str, style: str, label: str, emotions: tuple[str, ...], dom: str, rng: random.Random) -> str:
    text = text[0].upper() + text[1:]
    if style == "voice":  # ASR-like: lower case, no punctuation, disfluencies
        words = re.sub(r"[^\w\s'£$.-]|(?<!\d)\.(?!\d)", "", text.lower()).split()
        for _ in range(rng.randint(1, 2)):
            words.insert(rng.randint(0, max(0, len(words) // 2)), rng.choice(FILLERS))
        return " ".join(words)
    if style == "tweet":
        for pat, rep in ABBREV:
            if rng.random() < 0.5:
                text = re.sub(pat, rep, text, flags=re.IGNORECASE)
        tail = rng.choice(EMOJI[label]) if rng.random() < 0.5 else ""
        return f"@{BRANDS[dom]} {text} {tail}".strip()
    if style == "email":
        sign = rng.choice(["Regards", "Thanks", "Kind regards", "Best"])
        return f"{rng.choice(['Dear team', 'Hello', 'Hi there'])}, {text} {sign}, {rng.choice(GLOBAL['name'])}"
    if style == "shout" and "anger" in emotions:
        return text.upper().rstrip(".") + "!!!"
    if style == "lower":
        return text.lower()
    return text


def generate(n_per_template: int = 240, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    styles = ["chat", "chat", "voice", "voice", "tweet", "email", "shout", "lower"]
    rows, seen = [], set()
    for t_id, (family, label, emotions, pattern) in enumerate(TEMPLATES):
        split = "dev" if t_id % DEV_EVERY == DEV_EVERY - 1 else "train"
        for _ in range(n_per_template * 3):  # oversample then dedupe; stop at the quota
            dom = rng.choice(sorted(DOMAINS))
            style = rng.choice(styles)
            text = stylise(fill(pattern, DOMAINS[dom], rng), style, label, emotions, dom, rng)
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "label": label, "emotions": list(emotions), "domain": dom,
                         "style": style, "template": t_id, "family": family, "split": split})
            if sum(1 for r in rows if r["template"] == t_id) >= n_per_template:
                break
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-template", type=int, default=240)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rows = generate(args.per_template, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
