"""Segment → class: role summary, responsibilities, requirements, skills, company blurb, benefits,
legal/EEO, application instructions, or other.

    classify(segment) -> SegmentClass

Evidence, strongest first: boilerplate phrases ("equal opportunity employer", "401(k)", "apply now")
wherever they appear; then the section heading above the segment; then the segment's own cues
(requirement phrases, leading action verbs, skill lists). A summary heading ("Job description") is
weak evidence, so its content may still read as requirements or responsibilities.
"""

from compressor.lexicon import SegmentClass, boilerplate_class, content_class
from compressor.segment import Segment, SegmentKind

# Sections whose heading settles the class of everything under them.
_DECISIVE_SECTIONS = frozenset(SegmentClass) - {SegmentClass.SUMMARY, SegmentClass.OTHER}
# Boilerplate sections: a boilerplate phrase inside would only relabel boilerplate as boilerplate.
_BOILERPLATE_SECTIONS = frozenset({SegmentClass.COMPANY, SegmentClass.BENEFITS, SegmentClass.LEGAL, SegmentClass.APPLY})


def classify(segment: Segment) -> SegmentClass:
    if segment.kind is SegmentKind.HEADING:
        return segment.section or SegmentClass.OTHER
    if segment.section in _BOILERPLATE_SECTIONS:
        return segment.section
    boilerplate = boilerplate_class(segment.text)
    if boilerplate is not None:
        return boilerplate
    if segment.section in _DECISIVE_SECTIONS:
        return segment.section
    return content_class(segment.text) or segment.section or SegmentClass.OTHER
