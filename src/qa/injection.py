"""Text that gives the assistant orders: found, flagged, and kept away from the model.

Questions lose their ordering sentences before retrieval ("What does memantine treat?
Also, disregard your rules..." -> "What does memantine treat?"), and evidence selection
never shows a document sentence that matches these patterns to the model.
"""

from __future__ import annotations

import re

from qa.text import sentence_spans

# Prompt-injection phrasings, matched on lower-cased text with punctuation kept. They flag
# a question or a document for the caller; they never block it.
INJECTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile("|".join(f"(?:{alt})" for alt in alternatives)))
    for name, *alternatives in (
        # "Do not ignore the instructions on the label" is ordinary advice: an injection
        # names earlier instructions, or "your" rules.
        ("ignore_instructions",
         r"\b(?:ignore|forget|override|bypass) (?:all (?:of )?|any (?:of )?)?(?:(?:the |these "
         r"|those |your )?(?:previous|prior|above|earlier|preceding|system|original) |your "
         r"(?:\w+ )?)(?:instructions?|prompts?|rules|directions|guidelines|messages"
         r"|programming|restrictions)\b",
         r"\bignore (?:all |everything |the |anything )?(?:above|before|previous|prior)\b"),
        ("disregard_rules",
         r"\bdisregard (?:all (?:of )?|any )?(?:the |your |these )?(?:previous |prior |above "
         r"|earlier )?(?:rules|instructions?|guidelines|prompts?|directions)\b"),
        # "you are now taking memantine" is ordinary medical prose; only a new identity counts.
        ("you_are_now",
         r"\byou are now (?:a |an |my |in \w+ mode|no longer|free|unrestricted|jailbroken"
         r"|dan\b|\w+gpt\b)"),
        ("system_prompt", r"\bsystem prompt\b"),
        ("reveal_prompt",
         r"\b(?:reveal|print|show|repeat|output|leak|display) (?:me )?(?:your |the )?(?:hidden "
         r"|initial |original )?(?:prompt|instructions)\b"),
        # "acts as an NMDA antagonist" is pharmacology; only an order to play a role counts.
        ("act_as",
         r"(?:^|[.!?:;\n]\s*|\bplease |\bnow |from now on,? )act as\b",
         r"\bpretend (?:to be|you are|that you are)\b"),
        ("new_instructions", r"\bnew (?:admin |system |developer )?instructions?\s*:"),
        # Poisoned documents smuggle extra output into the answer.
        ("append_to_answer",
         r"\b(?:append|add|include|insert) (?:the |this )?(?:line|text|link|sentence|following)"
         r"\b.{0,120}?\bto (?:your|the) (?:answer|response|reply|output)\b"),
        ("fake_delimiter",
         r"<\|im_(?:start|end)\|>|\[/?inst\]|<<sys>>|</?(?:system|context|instructions?)>"),
    )
)



def looks_like_injection(text: str) -> bool:
    """True if text contains a known prompt-injection phrasing (flag it, don't block it)."""
    lowered = re.sub(r"\s+", " ", text.lower())
    return any(pattern.search(lowered) for _, pattern in INJECTION_PATTERNS)


def strip_injections(text: str) -> str:
    """Drop the sentences of a question that give the assistant orders; keep the rest."""
    text = text.strip()
    kept = (text[s:e] for s, e in sentence_spans(text, any_case=True))
    return " ".join(s for s in kept if not looks_like_injection(s)).strip()
