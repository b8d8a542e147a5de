"""Clean text → segments: headings, bullets and sentences, each remembering its section heading.

    segment(clean_text) -> list[Segment]

A heading is a short line ending in a colon ("Qualifications:"), a known section name standing
alone ("Benefits", "About Us"), a short all-caps line, or a known section name leading a line
("Requirements: 5+ years of Python" becomes a heading and a sentence). A bullet is a line that
starts with a bullet mark; other lines split into sentences and list items (at ";"). Ignores what
segments mean; `compressor.classify` decides that. Bounded: no segment exceeds MAX_SEGMENT_CHARS.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from compressor.lexicon import SegmentClass, heading_class

# ~100 tokens: longer than any budget, so cutting a run-on line here loses nothing selectable.
MAX_SEGMENT_CHARS = 400
# "Who you are:", "Responsibilities/Essential Functions:"; longer prefixes are labelled sentences.
MAX_HEADING_WORDS = 6

_BULLET_MARK = re.compile(r"^(?:[•●▪■◦·*‣⁃➢➤►>+✓✔-]|[–—]|\(?\d{1,2}[.)](?!\d))\s*")
# Sentence ends (not after "e.g." and friends), list-item semicolons, and CJK full stops (no space).
_SENTENCE_END = re.compile(
    r"(?<=[.!?。！？])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)\s+(?=\S)|;\s+|(?<=[。！？])"
)
_LEADING_LABEL = re.compile(r"^([^:.!?]{2,60}):\s*(.*)$")


class SegmentKind(StrEnum):
    HEADING = "heading"
    BULLET = "bullet"
    SENTENCE = "sentence"


@dataclass(frozen=True, slots=True)
class Segment:
    kind: SegmentKind
    text: str
    position: int  # order in the posting, from 0
    heading: str  # the section heading above it ("" before the first)
    section: SegmentClass | None  # what that heading announces (None: no heading yet, or unknown)


def _chunks(text: str) -> list[str]:
    """Cut a run-on text at word boundaries into pieces of at most MAX_SEGMENT_CHARS."""
    pieces: list[str] = []
    while len(text) > MAX_SEGMENT_CHARS:
        cut = text.rfind(" ", 0, MAX_SEGMENT_CHARS)
        cut = cut if cut > 0 else MAX_SEGMENT_CHARS
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    return [*pieces, text] if text else pieces


def _title_like(words: list[str]) -> bool:
    return all(w[0].isupper() for w in words if w.isalpha() and len(w) >= 5)


def _is_heading(line: str) -> bool:
    """A colon-ended short line, or a short known section name (title-cased or ending in the name)."""
    words = line.split()
    if not words or len(words) > MAX_HEADING_WORDS:
        return False
    if line.endswith(":"):
        return True
    if line[-1] in ".!,;" or any(ch.isdigit() for ch in line) or heading_class(line) is None:
        return False
    return _title_like(words) or heading_class(words[-1]) is not None


def _split_label(line: str) -> tuple[str, str] | None:
    """("Requirements", "5+ years") for a line led by a known section name and a colon."""
    match = _LEADING_LABEL.match(line) if ":" in line else None
    if match is None or len(match[1].split()) > MAX_HEADING_WORDS or not match[2]:
        return None
    return (match[1], match[2]) if heading_class(match[1]) is not None else None


def _line_units(line: str) -> list[tuple[SegmentKind, str]]:
    """A line's units: one heading, one bullet, or its sentences (after any leading section label)."""
    mark = _BULLET_MARK.match(line)
    if mark and mark.end() < len(line):
        return [(SegmentKind.BULLET, piece) for piece in _chunks(line[mark.end() :])]
    if _is_heading(line):
        return [(SegmentKind.HEADING, line.rstrip(": ").strip())]
    units: list[tuple[SegmentKind, str]] = []
    for sentence in _SENTENCE_END.split(line):
        label = _split_label(sentence)
        if label:
            units.append((SegmentKind.HEADING, label[0].strip()))
            sentence = label[1]
        units.extend((SegmentKind.SENTENCE, piece) for piece in _chunks(sentence.strip()))
    return units


def segment(text: str) -> list[Segment]:
    segments: list[Segment] = []
    heading, section = "", None
    for line in text.split("\n"):
        for kind, unit in _line_units(line):
            if len(unit) < 2:
                continue
            if kind is SegmentKind.HEADING:
                heading, section = unit, heading_class(unit)
            segments.append(Segment(kind, unit, len(segments), heading, section))
    return segments
