"""Every prompt file: registered, checked and loaded once, rendered with string.Template.

Placeholders are an interface: a file that uses an unknown one is rejected when loaded, a
missing or empty file is named, and rendering names any value that is missing.
``string.Template`` (``$name``) is used because medical text is full of braces and percent
signs that ``str.format`` would choke on.

The files ship inside the package (``qa.prompt_files``, the repository's ``prompts/``
folder), so an installed ``qa`` finds them outside a checkout; ``Settings.prompts_dir``
points at another folder of the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from qa.errors import ConfigError
from qa.types import TriageKind

# File name -> the placeholders it may use (and must be given when rendered).
PROMPT_FILES: dict[str, frozenset[str]] = {
    "system.txt": frozenset({"refusal"}),
    "answer.txt": frozenset({"passages", "question"}),
    "passage.txt": frozenset({"n", "title", "section", "text"}),
    "refusal.txt": frozenset(),
    "disclaimer.txt": frozenset(),
    "disclaimer_personal_dosing.txt": frozenset(),
    "triage_emergency.txt": frozenset(),
    "triage_self_harm.txt": frozenset(),
    "triage_personal_dosing.txt": frozenset(),
    "pubmedqa.txt": frozenset({"context", "question"}),
    "pubmedqa_direct.txt": frozenset({"context", "question"}),
    "cited_answer.gbnf": frozenset({"refusal"}),  # llama.cpp grammar (answer.constrained)
}
_RESTORE = ("Restore it from the repository's prompts/ folder, or set QA_PROMPTS_DIR to a "
            "folder that has it.")


def packaged_prompts() -> Traversable:
    """The prompt files shipped with the package."""
    return resources.files("qa.prompt_files")


def placeholders(template: Template) -> set[str]:
    """Names used in a template, e.g. {'question'} for 'Q: $question'."""
    return {m.group("named") or m.group("braced") for m in template.pattern.finditer(
        template.template) if m.group("named") or m.group("braced")}


@dataclass(frozen=True)
class PromptSet:
    """The checked templates, loaded once per Assistant."""

    templates: dict[str, Template]

    def render(self, name: str, **values: object) -> str:
        """Fill a template; a missing value is a ConfigError naming it."""
        template = self.templates[name]
        missing = placeholders(template) - values.keys()
        if missing:
            raise ConfigError(f"prompt {name} needs values for: {', '.join(sorted(missing))}")
        return template.substitute(**{k: str(v) for k, v in values.items()}).strip()

    def text(self, name: str) -> str:
        """A prompt file with no placeholders, as plain text."""
        return self.templates[name].template.strip()

    def triage_text(self, kind: TriageKind) -> str:
        """The fixed guidance shown for a triaged question (triage_<kind>.txt)."""
        return self.text(f"triage_{kind.value}.txt")

    def disclaimer(self, kind: TriageKind | None) -> str:
        """The closing note: the stronger dosing one for personal-dosing questions."""
        dosing = kind is TriageKind.PERSONAL_DOSING
        return self.text("disclaimer_personal_dosing.txt" if dosing else "disclaimer.txt")


def load_prompts(folder: Path | None = None) -> PromptSet:
    """Read and check every registered prompt file, from ``folder`` or the package."""
    root: Traversable = folder if folder is not None else packaged_prompts()
    templates: dict[str, Template] = {}
    for name, allowed in PROMPT_FILES.items():
        path = root / name
        try:
            template = Template(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError(f"prompt file {path} is missing or unreadable", _RESTORE) from err
        if not template.template.strip():
            raise ConfigError(f"prompt file {path} is empty", _RESTORE)
        unknown = placeholders(template) - allowed
        if unknown:
            raise ConfigError(
                f"prompt {path} uses unknown placeholder(s): {', '.join(sorted(unknown))}",
                hint=f"Allowed here: {', '.join(sorted(allowed)) or 'none'}.",
            )
        templates[name] = template
    return PromptSet(templates)
